import { describe, expect, it } from 'vitest';
import {
  MorShapeError,
  createRng,
  expandB,
  initMorLayer,
  loadBalanceLoss,
  morBackward,
  morForward,
  staticDeltaWeight,
  uniformGate,
  type MorForwardOptions,
} from '../src/index.js';

function inputs(): MorForwardOptions {
  const weights = initMorLayer({
    dIn: 6,
    dOut: 5,
    config: { r: 2, experts: 3, routerBias: true },
    rng: createRng(1),
  });
  return {
    x: new Float32Array(4 * 6),
    baseWeight: new Float32Array(5 * 6),
    baseBias: new Float32Array(5),
    weights,
    config: { r: 2, alpha: 4 },
    routing: { mode: 'dense' },
  };
}

function shapeError(fn: () => unknown): MorShapeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MorShapeError);
    return e as MorShapeError;
  }
  throw new Error('expected a MorShapeError');
}

describe('shape checks name the tensor and the expected vs actual shape', () => {
  const cases: [string, (o: MorForwardOptions) => MorForwardOptions, RegExp][] = [
    ['x', (o) => ({ ...o, x: new Float32Array(25) }), /x: expected shape \[\.\.\., 6\].*got 25 elements/],
    [
      'baseWeight',
      (o) => ({ ...o, baseWeight: new Float32Array(6 * 6) }),
      /baseWeight: expected shape \[5, 6\] \(30 elements\), got 36/,
    ],
    ['baseBias', (o) => ({ ...o, baseBias: new Float32Array(6) }), /baseBias: expected shape \[5\]/],
    [
      'weights.A',
      (o) => ({ ...o, weights: { ...o.weights, A: new Float32Array(11) } }),
      /weights\.A: expected shape \[2, 6\]/,
    ],
    [
      'weights.B',
      (o) => ({ ...o, weights: { ...o.weights, B: new Float32Array(11) } }),
      /weights\.B: expected shape \[5, 2\]/,
    ],
    [
      'weights.omegaA',
      (o) => ({ ...o, weights: { ...o.weights, omegaA: new Float32Array(5) } }),
      /weights\.omegaA: expected shape \[3, 2\]/,
    ],
    [
      'weights.omegaB',
      (o) => ({ ...o, weights: { ...o.weights, omegaB: new Float32Array(5) } }),
      /weights\.omegaB: expected shape \[3, 5\]/,
    ],
    [
      'weights.routerWeight',
      (o) => ({ ...o, weights: { ...o.weights, routerWeight: new Float32Array(6) } }),
      /weights\.routerWeight: expected shape \[3, 6\]/,
    ],
    [
      'weights.routerBias',
      (o) => ({ ...o, weights: { ...o.weights, routerBias: new Float32Array(2) } }),
      /weights\.routerBias: expected shape \[3\]/,
    ],
    ['weights.r', (o) => ({ ...o, config: { r: 3, alpha: 4 } }), /weights\.r: .*rank 2.*r = 3/],
    [
      'dropoutMask',
      (o) => ({ ...o, dropoutMask: new Float32Array(6) }),
      /dropoutMask: expected shape \[4, 6\]/,
    ],
    [
      'routing.gate',
      (o) => ({ ...o, routing: { mode: 'static', gate: uniformGate(2) } }),
      /routing\.gate: expected shape \[3\]/,
    ],
    [
      'routing.k',
      (o) => ({ ...o, routing: { mode: 'top-k', k: 4 } }),
      /routing\.k: expected an integer in \[1, 3\]/,
    ],
  ];
  for (const [tensor, patch, message] of cases) {
    it(tensor, () => {
      const err = shapeError(() => morForward(patch(inputs())));
      expect(err.tensor).toBe(tensor);
      expect(err.message).toMatch(message);
    });
  }

  it('upstream and gateGrad in the backward', () => {
    const o = inputs();
    expect(shapeError(() => morBackward({ ...o, upstream: new Float32Array(19) })).message).toMatch(
      /upstream: expected shape \[4, 5\] \(20 elements\), got 19/,
    );
    expect(
      shapeError(() => morBackward({ ...o, upstream: new Float32Array(20), gateGrad: new Float32Array(3) }))
        .tensor,
    ).toBe('gateGrad');
  });

  it('collapse, expansion and load balance', () => {
    const o = inputs();
    expect(
      shapeError(() => staticDeltaWeight({ weights: o.weights, gate: uniformGate(4), config: o.config }))
        .tensor,
    ).toBe('gate');
    expect(shapeError(() => expandB({ ...o.weights, omegaB: new Float32Array(1) })).tensor).toBe(
      'weights.omegaB',
    );
    expect(shapeError(() => loadBalanceLoss({ gates: new Float32Array(7), experts: 3 })).tensor).toBe(
      'gates',
    );
    expect(() => uniformGate(0)).toThrow(MorShapeError);
  });
});
