import { describe, expect, it } from 'vitest';
import { MorRng, createRng, type RngState } from '../src/index.js';

describe('MorRng (xoshiro128**)', () => {
  it('matches the reference C implementation (prng.di.unimi.it/xoshiro128starstar.c)', () => {
    // Known-answer vectors: the reference C code compiled with gcc, state {1, 2, 3, 4}; and a second state
    // after discarding 1000 outputs.
    const a = MorRng.fromState({ algorithm: 'xoshiro128**', s: [1, 2, 3, 4] });
    expect(Array.from({ length: 6 }, () => a.nextUint32())).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492,
    ]);
    const b = MorRng.fromState({
      algorithm: 'xoshiro128**',
      s: [0x9e3779b9, 0x243f6a88, 0xb7e15162, 0xdeadbeef],
    });
    for (let i = 0; i < 1000; i++) b.nextUint32();
    expect([b.nextUint32(), b.nextUint32(), b.nextUint32()]).toEqual([2541037969, 1849389561, 1502624387]);
  });

  it('is deterministic for a seed and differs between seeds (including seeds above 2^32)', () => {
    const draw = (seed: number) =>
      Array.from(
        { length: 8 },
        (
          (r) => () =>
            r.nextUint32()
        )(createRng(seed)),
      );
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(7)).not.toEqual(draw(7 + 2 ** 32));
  });

  it('saves and restores its state exactly (through JSON, as a checkpoint would)', () => {
    const r = createRng(123);
    for (let i = 0; i < 17; i++) r.normal();
    const saved = JSON.parse(JSON.stringify(r.getState())) as RngState;
    const expected = [r.uniform(), r.normal(), r.nextUint32()];
    const resumed = MorRng.fromState(saved);
    expect([resumed.uniform(), resumed.normal(), resumed.nextUint32()]).toEqual(expected);
    const c = createRng(5);
    const d = c.clone();
    expect(c.uniform()).toBe(d.uniform());
  });

  it('rejects bad seeds and states', () => {
    expect(() => createRng(-1)).toThrow(RangeError);
    expect(() => createRng(1.5)).toThrow(RangeError);
    expect(() => MorRng.fromState({ algorithm: 'xoshiro128**', s: [0, 0, 0, 0] })).toThrow(/zeros/);
    expect(() => MorRng.fromState({ algorithm: 'xoshiro128**', s: [1, 2, 3, 2 ** 32] })).toThrow(/uint32/);
    expect(() => MorRng.fromState({ algorithm: 'mt19937', s: [1, 2, 3, 4] } as unknown as RngState)).toThrow(
      /unknown/,
    );
  });

  it('uniform is in [0, 1) with mean 1/2, variance 1/12; normal has mean 0, variance 1', () => {
    const r = createRng(2024);
    const n = 200_000;
    let su = 0;
    let su2 = 0;
    let sn = 0;
    let sn2 = 0;
    let outOfRange = 0;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      if (!(u >= 0 && u < 1)) outOfRange++;
      su += u;
      su2 += u * u;
      const z = r.normal();
      sn += z;
      sn2 += z * z;
    }
    expect(outOfRange).toBe(0);
    // 5-sigma bands for the sample mean / variance.
    expect(Math.abs(su / n - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(su2 / n - (su / n) ** 2 - 1 / 12)).toBeLessThan(5 * Math.sqrt(1 / 180 / n));
    expect(Math.abs(sn / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(sn2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  });
});
