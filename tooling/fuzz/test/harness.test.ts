// The harness itself: inputs reproduce from (seed, index), and the oracle catches what it must.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classify, drawInput, runTarget } from '../src/index.js';
import { applyMutations, mutationPlan } from '../src/mutate.js';
import { defineTarget } from '../src/target.js';

class OurError extends Error {}

/** A parser with planted bugs: a TypeError on inputs ending in 7, a hang on inputs ending in 3. */
const planted = defineTarget<number, null>({
  name: 'planted',
  description: 'test target',
  allowed: [OurError],
  setup: async () => null,
  inputs: () => fc.nat(1000),
  run(n) {
    if (n % 10 === 7) return (null as unknown as { x: number }).x;
    if (n % 10 === 3) return new Promise(() => {});
    if (n % 2 === 0) throw new OurError('even');
    return n;
  },
  encode: (n) => new TextEncoder().encode(String(n)),
  decode: (b) => Number(new TextDecoder().decode(b)),
  size: () => 4,
});

describe('fuzz harness', () => {
  it('draws the same input for the same (seed, index), whatever ran before', () => {
    const arb = mutationPlan;
    expect(drawInput(arb, 5, 123)).toEqual(drawInput(arb, 5, 123));
    expect(drawInput(arb, 5, 123)).not.toEqual(drawInput(arb, 6, 123));
  });

  it('mutates without touching the seed', () => {
    const seed = { name: 's', bytes: new Uint8Array([1, 2, 3, 4]), hotLength: 4 };
    for (let i = 0; i < 200; i++) applyMutations(drawInput(mutationPlan, 1, i), [seed]);
    expect([...seed.bytes]).toEqual([1, 2, 3, 4]);
  });

  it('counts results and typed errors, and reports runtime faults and hangs with a replay command', async () => {
    const s = await runTarget(planted, { seed: 1, count: 300, limitMs: 50, maxRecorded: 1000 });
    expect(s.tried).toBe(300);
    const reasons = new Set(s.failures.map((f) => f.reason));
    expect(reasons).toEqual(new Set(['uncaught', 'slow']));
    expect(s.results + (s.typed['Error'] ?? 0) + s.failureCount).toBe(300);
    expect(s.failures[0]!.replay).toMatch(
      /^node tooling\/fuzz\/bin\/fuzz.mjs --target planted --seed 1 --index \d+/,
    );
  });

  it('refuses typed errors whose message shows a leaked runtime fault', () => {
    expect(classify(new OurError('x is not a function'), true, [OurError])).toMatchObject({
      reason: 'message',
    });
    expect(classify(new TypeError('bad'), true, [OurError])).toMatchObject({ reason: 'uncaught' });
    expect(classify(new OurError('shape null is not a list'), true, [OurError])).toEqual({
      kind: 'typed',
      name: 'Error',
    });
  });
});
