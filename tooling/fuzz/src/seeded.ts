// Deterministic inputs: every input is drawn by fast-check from a seed derived from (run seed, input index), so
// any one input can be regenerated alone, without replaying the inputs before it.
import fc from 'fast-check';

/** A 32-bit seed for input `index` of a run started with `seed` (a splitmix-style mix; fast-check takes int seeds). */
export function inputSeed(seed: number, index: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(index | 0, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) | 0;
}

/** The input at `index` of the run `seed`. */
export function drawInput<T>(arbitrary: fc.Arbitrary<T>, seed: number, index: number): T {
  return fc.sample(arbitrary, { seed: inputSeed(seed, index), numRuns: 1 })[0]!;
}
