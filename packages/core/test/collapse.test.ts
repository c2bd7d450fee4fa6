import { describe, expect, it } from 'vitest';
import {
  MorRng,
  expandB,
  expandedDelta,
  loraForward,
  morForward,
  staticCollapse,
  staticDeltaWeight,
  staticLoraWeights,
  uniformGate,
  type MorLayerWeights,
  type MorRouting,
} from '../src/index.js';
import { expectClose, randomLayer64 } from './helpers.js';

// Float32 outputs of two float64-accumulated computations of the same quantity: agree to float32 rounding.
const TOL = 1e-6;

function setup(seed: number, bias: boolean) {
  const rng = MorRng.fromSeed(seed);
  const dims = { dIn: 11, dOut: 7, r: 3, experts: 4, bias };
  const l = randomLayer64(rng, dims);
  const weights: MorLayerWeights = {
    ...dims,
    A: Float32Array.from(l.A),
    B: Float32Array.from(l.B),
    omegaA: Float32Array.from(l.omegaA),
    omegaB: Float32Array.from(l.omegaB),
    routerWeight: Float32Array.from(l.routerWeight),
    routerBias: l.routerBias ? Float32Array.from(l.routerBias) : null,
  };
  const tokens = 6;
  return {
    weights,
    tokens,
    x: rng.fillUniform(new Float32Array(tokens * dims.dIn), -1, 1),
    baseWeight: rng.fillUniform(new Float32Array(dims.dOut * dims.dIn), -1, 1),
    baseBias: rng.fillUniform(new Float32Array(dims.dOut), -1, 1),
    gate: rng.fillUniform(new Float32Array(dims.experts), 0, 1),
    config: { r: dims.r, alpha: 5 },
  };
}

describe('static gate collapses MoR into a rank-r LoRA (mor-spec.md §3)', () => {
  for (const gateKind of ['random', 'uniform'] as const) {
    it(`MoR(static ${gateKind} gate) == LoRA(A, B ⊙ M)`, () => {
      const s = setup(5, false);
      const gate = gateKind === 'uniform' ? uniformGate(4) : s.gate;
      const mor = morForward({ ...s, routing: { mode: 'static', gate } });
      const lora = loraForward({
        ...s,
        weights: staticLoraWeights({ weights: s.weights, gate }),
        scaling: 5 / 3,
      });
      expectClose(lora.delta, mor.delta, TOL, 'delta');
      expectClose(lora.y, mor.y, TOL, 'y');
    });
  }

  it('merged weight: (W + ΔW) x + b == the static MoR layer', () => {
    const s = setup(6, false);
    const mor = morForward({ ...s, routing: { mode: 'static', gate: s.gate } });
    const dW = staticDeltaWeight({ weights: s.weights, gate: s.gate, config: s.config });
    const merged = Float32Array.from(s.baseWeight, (w, j) => w + dW[j]);
    const zero = { ...s.weights, B: new Float32Array(s.weights.B.length) };
    const plain = morForward({
      ...s,
      baseWeight: merged,
      weights: zero,
      routing: { mode: 'static', gate: s.gate },
    });
    expectClose(plain.y, mor.y, 1e-5, 'merged y');
  });

  it('M matches its definition M[j,k] = Σ_i g_i ω_B[i,j] ω_A[i,k]; B_static = B ⊙ M', () => {
    const s = setup(7, false);
    const { M, bStatic } = staticCollapse({ weights: s.weights, gate: s.gate });
    const { dOut, r, experts, omegaA, omegaB, B } = s.weights;
    for (let j = 0; j < dOut; j++) {
      for (let k = 0; k < r; k++) {
        let m = 0;
        for (let i = 0; i < experts; i++) m += s.gate[i] * omegaB[i * dOut + j] * omegaA[i * r + k];
        expect(M[j * r + k]).toBeCloseTo(m, 6);
        expect(bStatic[j * r + k]).toBeCloseTo(B[j * r + k] * m, 6);
      }
    }
  });

  it('a dynamic router is not a static LoRA (the collapse test can fail)', () => {
    const s = setup(8, false);
    const mor = morForward({ ...s, routing: { mode: 'dense' } });
    const lora = loraForward({
      ...s,
      weights: staticLoraWeights({ weights: s.weights, gate: s.gate }),
      scaling: 5 / 3,
    });
    expect(Math.max(...lora.delta.map((v, j) => Math.abs(v - mor.delta[j])))).toBeGreaterThan(1e-3);
  });
});

describe('rank-expansion form (mor-spec.md §2)', () => {
  const routings: MorRouting[] = [
    { mode: 'dense' },
    { mode: 'top-k', k: 2 },
    { mode: 'static', gate: uniformGate(4) },
  ];
  for (const routing of routings) {
    it(`scaling · B_exp · (g ⊗ u) == per-expert loop (${routing.mode})`, () => {
      const s = setup(9, true);
      const fwd = morForward({ ...s, routing });
      const delta = expandedDelta({
        bExp: expandB(s.weights),
        gates: fwd.gates,
        u: fwd.u,
        experts: 4,
        r: 3,
        scaling: 5 / 3,
      });
      expectClose(delta, fwd.delta, TOL, 'delta');
    });
  }

  it('B_exp is expert-major: column i·r + k = ω_B[i] ⊙ B[:, k] · ω_A[i, k]', () => {
    const s = setup(10, false);
    const bExp = expandB(s.weights);
    const { dOut, r, experts, B, omegaA, omegaB } = s.weights;
    expect(bExp.length).toBe(dOut * experts * r);
    const i = 2;
    const k = 1;
    for (let o = 0; o < dOut; o++) {
      expect(bExp[o * experts * r + i * r + k]).toBeCloseTo(
        omegaB[i * dOut + o] * B[o * r + k] * omegaA[i * r + k],
        6,
      );
    }
  });
});
