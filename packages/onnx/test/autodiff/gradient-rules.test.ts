import { describe, expect, it } from 'vitest';
import { DECOMPOSABLE } from '../../src/autodiff/decompose.js';
import { GRADIENT_RULES } from '../../src/autodiff/gradient-rules.js';
import { checkGradient } from './helpers/gradient-check.js';
import { FD_CASES } from './helpers/fd-cases.js';

describe('gradient table: finite differences', () => {
  it.each(FD_CASES.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    const { maxError } = await checkGradient(c);
    expect(maxError).toBeLessThan(c.float32 ? 2e-2 : 1e-6);
  });

  it('has a finite-difference case for every gradient rule and every decomposition', () => {
    const covered = new Set(FD_CASES.map((c) => c.op));
    // Straight-through rules are checked against the float layer they stand for (straight-through.test.ts).
    const rules = [...GRADIENT_RULES].filter(([, r]) => !r.straightThrough).map(([k]) => k);
    const missing = [...rules, ...DECOMPOSABLE].filter((k) => !covered.has(k));
    expect(missing).toEqual([]);
  });
});
