import { describe, expect, it } from 'vitest';
import { createRng, initLoraLayer, initMorLayer, kaimingUniformBound, MorShapeError } from '../src/index.js';

const config = { r: 16, experts: 8, routerBias: true };

describe('initMorLayer (mor-spec.md §1 init column)', () => {
  it('A and the router are kaiming-uniform (a=√5: bound 1/√d_in), B zeros, omegas ones', () => {
    const dIn = 256;
    const w = initMorLayer({ dIn, dOut: 96, config, rng: createRng(1) });
    const bound = Math.fround(1 / Math.sqrt(dIn));
    expect(kaimingUniformBound(dIn)).toBeCloseTo(1 / 16, 12);
    for (const [name, t] of [
      ['A', w.A],
      ['routerWeight', w.routerWeight],
      ['routerBias', w.routerBias!],
    ] as const) {
      let sum = 0;
      let sq = 0;
      for (const v of t) {
        expect(Math.abs(v), name).toBeLessThanOrEqual(bound);
        sum += v;
        sq += v * v;
      }
      if (t.length < 1000) continue; // moments need samples; the bias has only N entries
      const mean = sum / t.length;
      const variance = sq / t.length - mean * mean;
      // uniform(±b): mean 0 (sd of the sample mean b/√(3n)), E[v²] = b²/3 (sd of its estimate b²·√(4/45n)).
      // 5-sigma bands.
      expect(Math.abs(mean), `${name} mean`).toBeLessThan((5 * bound) / Math.sqrt(3 * t.length));
      expect(Math.abs(variance - (bound * bound) / 3), `${name} variance`).toBeLessThan(
        5 * bound * bound * Math.sqrt(4 / 45 / t.length),
      );
    }
    expect(w.A.length).toBe(16 * 256);
    expect(w.B.length).toBe(96 * 16);
    expect(w.B.every((v) => v === 0)).toBe(true);
    expect(w.omegaA.length).toBe(8 * 16);
    expect(w.omegaB.length).toBe(8 * 96);
    expect(w.omegaA.every((v) => v === 1) && w.omegaB.every((v) => v === 1)).toBe(true);
    expect(w.routerBias!.length).toBe(8);
    // The router is random and different per expert (mor-spec.md §5: breaks the expert symmetry).
    expect(w.routerWeight.slice(0, 256)).not.toEqual(w.routerWeight.slice(256, 512));
  });

  it('no router bias when the config has none', () => {
    expect(
      initMorLayer({ dIn: 8, dOut: 4, config: { ...config, routerBias: false }, rng: createRng(1) })
        .routerBias,
    ).toBeNull();
  });

  it('is deterministic for a seed, different for another, and draws A, router weight, router bias in order', () => {
    const a = initMorLayer({ dIn: 32, dOut: 16, config, rng: createRng(7) });
    const b = initMorLayer({ dIn: 32, dOut: 16, config, rng: createRng(7) });
    const c = initMorLayer({ dIn: 32, dOut: 16, config, rng: createRng(8) });
    expect(a).toEqual(b);
    expect(a.A).not.toEqual(c.A);
    expect(a.routerWeight).not.toEqual(c.routerWeight);
    const rng = createRng(7);
    const bound = 1 / Math.sqrt(32);
    expect(a.A).toEqual(rng.fillUniform(new Float32Array(16 * 32), -bound, bound));
    expect(a.routerWeight).toEqual(rng.fillUniform(new Float32Array(8 * 32), -bound, bound));
    expect(a.routerBias).toEqual(rng.fillUniform(new Float32Array(8), -bound, bound));
  });

  it('rejects bad dimensions with MorShapeError', () => {
    expect(() => initMorLayer({ dIn: 0, dOut: 4, config, rng: createRng(1) })).toThrow(MorShapeError);
    expect(() => initMorLayer({ dIn: 4, dOut: 2.5, config, rng: createRng(1) })).toThrow(/dOut/);
  });
});

describe('initLoraLayer', () => {
  it('A kaiming-uniform, B zeros, deterministic', () => {
    const w = initLoraLayer({ dIn: 64, dOut: 32, r: 8, rng: createRng(3) });
    const bound = Math.fround(1 / 8);
    expect(w.A.every((v) => Math.abs(v) <= bound)).toBe(true);
    expect(new Set(w.A).size).toBeGreaterThan(500);
    expect(w.B.length).toBe(32 * 8);
    expect(w.B.every((v) => v === 0)).toBe(true);
    expect(initLoraLayer({ dIn: 64, dOut: 32, r: 8, rng: createRng(3) })).toEqual(w);
  });
});
