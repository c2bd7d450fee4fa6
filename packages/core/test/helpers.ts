import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { MorRng, type MorLayerParams } from '../src/index.js';

/** A tensor as stored in the PyTorch goldens: row-major data with its shape. */
export interface GoldenTensor {
  shape: number[];
  data: number[];
}

/** One case of fixtures/layer_golden.json (produced by an independent PyTorch implementation). */
export interface GoldenCase {
  name: string;
  config: { r: number; lora_alpha: number; num_experts: number; top_k: number | null; router_bias: boolean };
  x: GoldenTensor;
  base_weight: GoldenTensor;
  base_bias: GoldenTensor | null;
  A: GoldenTensor;
  B: GoldenTensor;
  omega_A: GoldenTensor;
  omega_B: GoldenTensor;
  router_weight: GoldenTensor;
  router_bias: GoldenTensor | null;
  gates: GoldenTensor;
  delta: GoldenTensor;
  y: GoldenTensor;
  upstream: GoldenTensor;
  loss: number;
  grad: Record<string, GoldenTensor>;
  static_gate: GoldenTensor;
  static_delta_weight: GoldenTensor;
  load_balance_loss: number;
}

export function fixtureUrl(rel: string): URL {
  return new URL(`../../../fixtures/${rel}`, import.meta.url);
}

export function loadGoldenCases(): GoldenCase[] {
  const json = JSON.parse(readFileSync(fixtureUrl('layer_golden.json'), 'utf8')) as { cases: GoldenCase[] };
  return json.cases;
}

export function f32(t: GoldenTensor): Float32Array {
  return Float32Array.from(t.data);
}

/**
 * Largest violation of `|a − e| ≤ tol · max(1, |e|)` (absolute below magnitude 1, relative above), as a
 * ratio: ≤ 1 passes. Returns the worst index too, for the failure message.
 */
export function worstMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number) {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const ratio = Math.abs(actual[i] - expected[i]) / (tol * Math.max(1, Math.abs(expected[i])));
    if (!(ratio <= worst)) {
      worst = ratio;
      at = i;
    }
  }
  return { worst, at };
}

export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
): void {
  const { worst, at } = worstMismatch(actual, expected, tol);
  expect(
    worst,
    `${what}: element ${at}: got ${actual[at]}, expected ${expected[at]} (tolerance ${tol}·max(1,|e|))`,
  ).toBeLessThanOrEqual(1);
}

/** A random MoR layer in float64 with every parameter non-trivial (B ≠ 0, omegas ≠ 1), for gradient checks. */
export function randomLayer64(
  rng: MorRng,
  dims: { dIn: number; dOut: number; r: number; experts: number; bias: boolean },
): MorLayerParams {
  const { dIn, dOut, r, experts, bias } = dims;
  const u = (len: number, lo = -1, hi = 1) => rng.fillUniform(new Float64Array(len), lo, hi);
  return {
    dIn,
    dOut,
    r,
    experts,
    A: u(r * dIn),
    B: u(dOut * r),
    omegaA: u(experts * r, 0.2, 1.8),
    omegaB: u(experts * dOut, 0.2, 1.8),
    // Router logits of order a few units, so top-k has clear winners and softmax is not saturated.
    routerWeight: u(experts * dIn, -1.5, 1.5),
    routerBias: bias ? u(experts) : null,
  };
}
