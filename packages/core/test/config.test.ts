import { describe, expect, it } from 'vitest';
import { MorConfigError, validateMorConfig, type MorConfigInput } from '../src/index.js';

const good: MorConfigInput = { r: 4, alpha: 8, experts: 4, targets: ['q_proj'] };

describe('validateMorConfig', () => {
  it('fills defaults', () => {
    expect(validateMorConfig({ r: 4, experts: 2, targets: ['q_proj'] })).toEqual({
      r: 4,
      alpha: 8,
      experts: 2,
      topK: null,
      routerBias: false,
      dropout: 0,
      targets: ['q_proj'],
      routerAuxLossCoef: 0,
    });
  });

  const bad: [string, Partial<MorConfigInput>][] = [
    ['r', { r: 0 }],
    ['r', { r: 2.5 }],
    ['r', { r: '4' }],
    ['experts', { experts: 0 }],
    ['alpha', { alpha: 0 }],
    ['alpha', { alpha: Number.NaN }],
    ['topK', { topK: 5 }],
    ['topK', { topK: 0 }],
    ['routerBias', { routerBias: 'yes' }],
    ['dropout', { dropout: 1 }],
    ['dropout', { dropout: -0.1 }],
    ['targets', { targets: [] }],
    ['targets', { targets: ['q_proj', ' '] }],
    ['targets', { targets: 'q_proj' }],
    ['routerAuxLossCoef', { routerAuxLossCoef: -1 }],
  ];
  for (const [field, patch] of bad) {
    it(`rejects ${field} = ${JSON.stringify(Object.values(patch)[0])}`, () => {
      let err: unknown;
      try {
        validateMorConfig({ ...good, ...patch });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MorConfigError);
      expect((err as MorConfigError).field).toBe(field);
      expect((err as MorConfigError).message).toContain(field);
    });
  }
});
