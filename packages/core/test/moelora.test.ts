import { describe, expect, it } from 'vitest';
import {
  MorRng,
  MorShapeError,
  createRng,
  initMoeLoraLayer,
  kaimingUniformBound,
  loadBalanceLoss,
  loraForward,
  moeLoraBackwardF64,
  moeLoraForward,
  moeLoraForwardF64,
  moeLoraFromMor,
  moeLoraParamCount,
  morForwardF64,
  type MoeLoraBackwardOptions,
  type MoeLoraGradients,
  type MoeLoraLayerParams,
  type MoeLoraRouting,
} from '../src/index.js';
import { expectClose, randomLayer64, worstMismatch } from './helpers.js';

// Central differences in float64, as finite-diff.test.ts does for MoR: EPS 1e-6 gives truncation ~1e-12 and
// round-off ~1e-10, so a tolerance of 1e-6·max(1,|g|) catches a gradient wrong by 1e-4 anywhere.
const EPS = 1e-6;
const TOL = 1e-6;

type ParamName = 'A' | 'B' | 'routerWeight' | 'routerBias' | 'x';
const PARAMS: ParamName[] = ['A', 'B', 'routerWeight', 'routerBias', 'x'];

interface Case {
  label: string;
  opts: MoeLoraBackwardOptions;
  auxCoef: number;
}

function lossOf(opts: MoeLoraBackwardOptions, auxCoef: number): number {
  const f = moeLoraForwardF64(opts);
  let loss = 0;
  for (let i = 0; i < f.y.length; i++) loss += f.y[i] * opts.upstream[i];
  if (auxCoef !== 0)
    loss += auxCoef * loadBalanceLoss({ gates: f.gates, experts: opts.weights.experts }).loss;
  return loss;
}

function withParam(opts: MoeLoraBackwardOptions, name: ParamName, v: Float64Array): MoeLoraBackwardOptions {
  if (name === 'x') return { ...opts, x: v };
  return { ...opts, weights: { ...opts.weights, [name]: v } as MoeLoraLayerParams };
}

function numericGrad(opts: MoeLoraBackwardOptions, name: ParamName, auxCoef: number): Float64Array {
  const base = Float64Array.from((name === 'x' ? opts.x : opts.weights[name]) ?? []);
  const out = new Float64Array(base.length);
  for (let j = 0; j < base.length; j++) {
    const plus = Float64Array.from(base);
    const minus = Float64Array.from(base);
    plus[j] += EPS;
    minus[j] -= EPS;
    out[j] =
      (lossOf(withParam(opts, name, plus), auxCoef) - lossOf(withParam(opts, name, minus), auxCoef)) /
      (2 * EPS);
  }
  return out;
}

function analyticFor(c: Case): MoeLoraGradients<Float64Array> {
  let gateGrad: Float64Array | null = null;
  if (c.auxCoef !== 0) {
    const gates = moeLoraForwardF64(c.opts).gates;
    const lb = loadBalanceLoss({ gates, experts: c.opts.weights.experts });
    gateGrad = Float64Array.from(lb.gateGrad, (v) => c.auxCoef * v);
  }
  return moeLoraBackwardF64({ ...c.opts, gateGrad });
}

function makeCase(seed: number, mode: 'dense' | 'top-k', bias: boolean, dropout: boolean, auxCoef = 0): Case {
  const rng = MorRng.fromSeed(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));
  const dIn = int(3, 8);
  const dOut = int(2, 7);
  const r = int(1, 3);
  const n = int(2, 5);
  const tokens = int(1, 5);
  const u = (len: number, lo = -1, hi = 1) => rng.fillUniform(new Float64Array(len), lo, hi);
  const weights: MoeLoraLayerParams = {
    dIn,
    dOut,
    r,
    experts: n,
    A: u(n * r * dIn),
    B: u(n * dOut * r),
    routerWeight: u(n * dIn, -1.5, 1.5),
    routerBias: bias ? u(n) : null,
  };
  const routing: MoeLoraRouting = mode === 'dense' ? { mode } : { mode, k: int(1, n - 1) };
  const p = 0.3;
  const mask = dropout
    ? Float64Array.from({ length: tokens * dIn }, () => (rng.uniform() < p ? 0 : 1 / (1 - p)))
    : null;
  return {
    label: `seed ${seed}: ${mode}${routing.mode === 'top-k' ? ` k=${routing.k}` : ''}${bias ? ' +bias' : ''}${dropout ? ' +dropout' : ''}${auxCoef ? ' +aux' : ''} (T=${tokens} dIn=${dIn} dOut=${dOut} r=${r} N=${n})`,
    auxCoef,
    opts: {
      x: u(tokens * dIn),
      baseWeight: u(dOut * dIn),
      baseBias: u(dOut),
      weights,
      config: { r, alpha: rng.uniformRange(0.5, 3) * r },
      routing,
      dropoutMask: mask,
      upstream: u(tokens * dOut),
    },
  };
}

const cases: Case[] = [];
for (const seed of [1, 2, 3]) {
  cases.push(makeCase(seed * 10 + 1, 'dense', false, false));
  cases.push(makeCase(seed * 10 + 2, 'dense', true, true));
  cases.push(makeCase(seed * 10 + 3, 'top-k', false, false));
  cases.push(makeCase(seed * 10 + 4, 'top-k', true, true));
  cases.push(makeCase(seed * 10 + 5, 'dense', true, false, 0.7));
  cases.push(makeCase(seed * 10 + 6, 'top-k', true, false, 0.7));
}

describe('MoELoRA gradients against float64 central differences (mor-spec.md §7)', () => {
  for (const c of cases) {
    it(c.label, () => {
      const analytic = analyticFor(c);
      for (const name of PARAMS) {
        const a = analytic[name];
        if (name === 'routerBias' && c.opts.weights.routerBias === null) {
          expect(a, 'routerBias should have no gradient').toBeNull();
          continue;
        }
        const { worst, at } = worstMismatch(a!, numericGrad(c.opts, name, c.auxCoef), TOL);
        expect(worst, `${name}[${at}]`).toBeLessThanOrEqual(1);
      }
    });
  }

  it('the check can fail: a gradient off by 1e-4, or the dense gradient for a top-k layer, is caught', () => {
    const c = makeCase(7, 'top-k', false, false);
    const numeric = numericGrad(c.opts, 'B', 0);
    const bad = Float64Array.from(analyticFor(c).B);
    bad[bad.length >> 1] += 1e-4;
    expect(worstMismatch(bad, numeric, TOL).worst).toBeGreaterThan(1);
    const dense = moeLoraBackwardF64({ ...c.opts, routing: { mode: 'dense' } }).routerWeight;
    expect(worstMismatch(dense, numericGrad(c.opts, 'routerWeight', 0), TOL).worst).toBeGreaterThan(1);
  });
});

describe('MoELoRA forward against independent paths', () => {
  it('N = 1 (gate 1): equals the plain LoRA reference', () => {
    const rng = MorRng.fromSeed(5);
    const [dIn, dOut, r, tokens] = [7, 5, 3, 4];
    const A = rng.fillUniform(new Float32Array(r * dIn), -1, 1);
    const B = rng.fillUniform(new Float32Array(dOut * r), -1, 1);
    const x = rng.fillUniform(new Float32Array(tokens * dIn), -1, 1);
    const baseWeight = rng.fillUniform(new Float32Array(dOut * dIn), -1, 1);
    const baseBias = rng.fillUniform(new Float32Array(dOut), -1, 1);
    const alpha = 5;
    const moe = moeLoraForward({
      x,
      baseWeight,
      baseBias,
      weights: {
        dIn,
        dOut,
        r,
        experts: 1,
        A,
        B,
        routerWeight: rng.fillUniform(new Float32Array(dIn), -2, 2),
        routerBias: null,
      },
      config: { r, alpha },
      routing: { mode: 'dense' },
    });
    expect([...moe.gates]).toEqual([1, 1, 1, 1]);
    const lora = loraForward({
      x,
      baseWeight,
      baseBias,
      weights: { dIn, dOut, r, A, B },
      scaling: alpha / r,
    });
    expectClose(moe.delta, lora.delta, 1e-6, 'delta');
    expectClose(moe.y, lora.y, 1e-6, 'y');
  });

  for (const routing of [{ mode: 'dense' }, { mode: 'top-k', k: 2 }] as MoeLoraRouting[]) {
    it(`a MoR layer is the MoELoRA with A_i = diag(ω_A,i)·A, B_i = diag(ω_B,i)·B (${routing.mode})`, () => {
      const rng = MorRng.fromSeed(11);
      const [dIn, dOut, r, n, tokens] = [6, 5, 2, 4, 3];
      const mor = randomLayer64(rng, { dIn, dOut, r, experts: n, bias: true });
      const A = new Float64Array(n * r * dIn);
      const B = new Float64Array(n * dOut * r);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < r; k++)
          for (let j = 0; j < dIn; j++) A[(i * r + k) * dIn + j] = mor.omegaA[i * r + k] * mor.A[k * dIn + j];
        for (let o = 0; o < dOut; o++)
          for (let k = 0; k < r; k++) B[(i * dOut + o) * r + k] = mor.omegaB[i * dOut + o] * mor.B[o * r + k];
      }
      const common = {
        x: rng.fillUniform(new Float64Array(tokens * dIn), -1, 1),
        baseWeight: rng.fillUniform(new Float64Array(dOut * dIn), -1, 1),
        config: { r, alpha: 3 },
        routing,
      };
      const want = morForwardF64({ ...common, weights: mor });
      const got = moeLoraForwardF64({
        ...common,
        weights: {
          dIn,
          dOut,
          r,
          experts: n,
          A,
          B,
          routerWeight: mor.routerWeight,
          routerBias: mor.routerBias,
        },
      });
      expectClose(got.gates, want.gates, 1e-12, 'gates');
      expectClose(got.y, want.y, 1e-12, 'y');
      // moeLoraFromMor, the float32 rewrite the graph tests use, is that same layer.
      const f32 = (v: Float64Array | Float32Array | null) => (v === null ? null : Float32Array.from(v));
      const rewritten = moeLoraFromMor({
        dIn,
        dOut,
        r,
        experts: n,
        A: f32(mor.A)!,
        B: f32(mor.B)!,
        omegaA: f32(mor.omegaA)!,
        omegaB: f32(mor.omegaB)!,
        routerWeight: f32(mor.routerWeight)!,
        routerBias: f32(mor.routerBias),
      });
      expectClose(moeLoraForwardF64({ ...common, weights: rewritten }).y, want.y, 1e-5, 'moeLoraFromMor y');
    });
  }

  it('refuses static routing and misshapen tensors, naming the tensor', () => {
    const w = initMoeLoraLayer({
      dIn: 4,
      dOut: 3,
      config: { r: 2, experts: 3, routerBias: false },
      rng: createRng(1),
    });
    const opts = {
      x: new Float32Array(8),
      baseWeight: new Float32Array(12),
      weights: w,
      config: { r: 2, alpha: 4 },
    };
    expect(() =>
      moeLoraForward({
        ...opts,
        routing: { mode: 'static', gate: new Float32Array(3) } as unknown as MoeLoraRouting,
      }),
    ).toThrow(/MoELoRA has no static routing/);
    expect(() => moeLoraForward({ ...opts, routing: { mode: 'top-k', k: 4 } })).toThrow(/routing\.k/);
    expect(() =>
      moeLoraForward({ ...opts, weights: { ...w, B: new Float32Array(5) }, routing: { mode: 'dense' } }),
    ).toThrow(MorShapeError);
    expect(() => moeLoraForward({ ...opts, config: { r: 3, alpha: 4 }, routing: { mode: 'dense' } })).toThrow(
      /weights\.r/,
    );
  });
});

describe('initMoeLoraLayer and moeLoraParamCount', () => {
  it('A_i and the router kaiming-uniform, B zeros, experts distinct, reproducible from the seed', () => {
    const config = { r: 4, experts: 3, routerBias: true };
    const w = initMoeLoraLayer({ dIn: 64, dOut: 16, config, rng: createRng(3) });
    const bound = Math.fround(kaimingUniformBound(64));
    expect(w.A.length).toBe(3 * 4 * 64);
    expect(w.B.length).toBe(3 * 16 * 4);
    expect(w.B.every((v) => v === 0)).toBe(true);
    for (const t of [w.A, w.routerWeight, w.routerBias!])
      expect(t.every((v) => Math.abs(v) <= bound)).toBe(true);
    expect(w.A.slice(0, 256)).not.toEqual(w.A.slice(256, 512));
    expect(initMoeLoraLayer({ dIn: 64, dOut: 16, config, rng: createRng(3) })).toEqual(w);
    expect(
      initMoeLoraLayer({ dIn: 64, dOut: 16, config: { ...config, routerBias: false }, rng: createRng(3) })
        .routerBias,
    ).toBeNull();
  });

  it('counts N·r·(d_in + d_out) + N·d_in (+ N), the element count of the init', () => {
    const shape = { dIn: 10, dOut: 6 };
    expect(moeLoraParamCount(shape, { r: 2, experts: 3, routerBias: false })).toBe(3 * 2 * 16 + 30);
    const w = initMoeLoraLayer({
      ...shape,
      config: { r: 2, experts: 3, routerBias: true },
      rng: createRng(1),
    });
    expect(moeLoraParamCount(shape, { r: 2, experts: 3, routerBias: true })).toBe(
      w.A.length + w.B.length + w.routerWeight.length + w.routerBias!.length,
    );
  });
});
