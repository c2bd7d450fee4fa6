import { describe, expect, it } from 'vitest';
import {
  MorRng,
  loadBalanceLoss,
  morBackwardF64,
  morForwardF64,
  type MorBackwardOptions,
  type MorGradients,
  type MorLayerParams,
  type MorRouting,
} from '../src/index.js';
import { randomLayer64, worstMismatch } from './helpers.js';

// Central differences in float64 on the loss L = Σ y·upstream (+ coef · load-balance loss when asked).
// With EPS = 1e-6 the truncation error is ~EPS² and the round-off ~1e-16·|L|/EPS ≈ 1e-10, so a tolerance of
// 1e-6·max(1, |g|) is tight: a gradient wrong by 1e-4 anywhere fails (checked below).
const EPS = 1e-6;
const TOL = 1e-6;

type ParamName = 'A' | 'B' | 'omegaA' | 'omegaB' | 'routerWeight' | 'routerBias' | 'x';

function lossOf(opts: MorBackwardOptions, auxCoef: number): number {
  const f = morForwardF64(opts);
  let loss = 0;
  for (let i = 0; i < f.y.length; i++) loss += f.y[i] * opts.upstream[i];
  if (auxCoef !== 0)
    loss += auxCoef * loadBalanceLoss({ gates: f.gates, experts: opts.weights.experts }).loss;
  return loss;
}

function withParam(opts: MorBackwardOptions, name: ParamName, value: Float64Array): MorBackwardOptions {
  if (name === 'x') return { ...opts, x: value };
  return { ...opts, weights: { ...opts.weights, [name]: value } as MorLayerParams };
}

function paramOf(opts: MorBackwardOptions, name: ParamName): Float64Array {
  const v = name === 'x' ? opts.x : opts.weights[name];
  return Float64Array.from(v ?? []);
}

/** The numeric gradient of every element of one parameter. */
function numericGrad(opts: MorBackwardOptions, name: ParamName, auxCoef: number): Float64Array {
  const base = paramOf(opts, name);
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

function analyticOf(g: MorGradients<Float64Array>, name: ParamName): Float64Array | null {
  return g[name];
}

interface Case {
  label: string;
  opts: MorBackwardOptions;
  auxCoef: number;
}

function makeCase(
  seed: number,
  mode: 'dense' | 'top-k' | 'static',
  bias: boolean,
  dropout: boolean,
  auxCoef = 0,
): Case {
  const rng = MorRng.fromSeed(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));
  const dIn = int(3, 9);
  const dOut = int(2, 8);
  const r = int(1, 4);
  const experts = int(2, 5);
  const tokens = int(1, 6);
  const weights = randomLayer64(rng, { dIn, dOut, r, experts, bias });
  let routing: MorRouting;
  if (mode === 'dense') routing = { mode: 'dense' };
  else if (mode === 'top-k') routing = { mode: 'top-k', k: int(1, experts - 1) };
  else routing = { mode: 'static', gate: rng.fillUniform(new Float64Array(experts), 0, 1) };
  const p = 0.3;
  const mask = dropout
    ? Float64Array.from({ length: tokens * dIn }, () => (rng.uniform() < p ? 0 : 1 / (1 - p)))
    : null;
  const alpha = rng.uniformRange(0.5, 3) * r;
  return {
    label: `seed ${seed}: ${mode}${routing.mode === 'top-k' ? ` k=${routing.k}` : ''}${bias ? ' +bias' : ''}${dropout ? ' +dropout' : ''}${auxCoef ? ' +aux' : ''} (T=${tokens} dIn=${dIn} dOut=${dOut} r=${r} N=${experts})`,
    auxCoef,
    opts: {
      x: rng.fillUniform(new Float64Array(tokens * dIn), -1, 1),
      baseWeight: rng.fillUniform(new Float64Array(dOut * dIn), -1, 1),
      baseBias: rng.fillUniform(new Float64Array(dOut), -1, 1),
      weights,
      config: { r, alpha },
      routing,
      dropoutMask: mask,
      upstream: rng.fillUniform(new Float64Array(tokens * dOut), -1, 1),
    },
  };
}

function analyticFor(c: Case): MorGradients<Float64Array> {
  let gateGrad: Float64Array | null = null;
  if (c.auxCoef !== 0) {
    const lb = loadBalanceLoss({ gates: morForwardF64(c.opts).gates, experts: c.opts.weights.experts });
    gateGrad = Float64Array.from(lb.gateGrad, (v) => c.auxCoef * v);
  }
  return morBackwardF64({ ...c.opts, gateGrad });
}

const cases: Case[] = [];
for (const seed of [1, 2, 3, 4]) {
  cases.push(makeCase(seed * 10 + 1, 'dense', false, false));
  cases.push(makeCase(seed * 10 + 2, 'dense', true, true));
  cases.push(makeCase(seed * 10 + 3, 'top-k', false, false));
  cases.push(makeCase(seed * 10 + 4, 'top-k', true, true));
  cases.push(makeCase(seed * 10 + 5, 'static', false, true));
  cases.push(makeCase(seed * 10 + 6, 'dense', true, false, 0.7));
  cases.push(makeCase(seed * 10 + 7, 'top-k', true, false, 0.7));
}

const PARAMS: ParamName[] = ['A', 'B', 'omegaA', 'omegaB', 'routerWeight', 'routerBias', 'x'];

describe('gradients against float64 central differences', () => {
  for (const c of cases) {
    it(c.label, () => {
      const analytic = analyticFor(c);
      for (const name of PARAMS) {
        const a = analyticOf(analytic, name);
        const hasRouter = c.opts.routing.mode !== 'static';
        const exists =
          name === 'routerBias'
            ? hasRouter && c.opts.weights.routerBias !== null
            : name !== 'routerWeight' || hasRouter;
        if (!exists) {
          expect(a, `${name} should have no gradient`).toBeNull();
          continue;
        }
        expect(a, `${name} gradient`).not.toBeNull();
        const { worst, at } = worstMismatch(a!, numericGrad(c.opts, name, c.auxCoef), TOL);
        expect(worst, `${name}[${at}]`).toBeLessThanOrEqual(1);
      }
    });
  }

  it('top-k: unselected logits get exactly zero gradient', () => {
    const c = makeCase(99, 'top-k', true, false);
    const g = analyticFor(c);
    const gates = morForwardF64(c.opts).gates;
    for (let j = 0; j < gates.length; j++) if (gates[j] === 0) expect(g.logits![j]).toBe(0);
  });

  it('the check can fail: a gradient off by 1e-4 in one element, or the wrong routing, is caught', () => {
    const c = makeCase(7, 'top-k', false, false);
    const numeric = numericGrad(c.opts, 'A', 0);
    const good = analyticFor(c).A;
    expect(worstMismatch(good, numeric, TOL).worst).toBeLessThanOrEqual(1);
    const bad = Float64Array.from(good);
    bad[bad.length >> 1] += 1e-4;
    expect(worstMismatch(bad, numeric, TOL).worst).toBeGreaterThan(1);
    // The dense gradient is not the top-k one: routing really changes the backward.
    const dense = morBackwardF64({ ...c.opts, routing: { mode: 'dense' } }).routerWeight!;
    expect(worstMismatch(dense, numericGrad(c.opts, 'routerWeight', 0), TOL).worst).toBeGreaterThan(1);
  });
});
