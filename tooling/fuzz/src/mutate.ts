// Byte-level mutation of valid seed files (bit flips, insertions, deletions, splices, integers overwritten with
// boundary values, numbers in text replaced, truncation). Hand-written: fast-check generates values but has no
// mutator for existing byte strings; the plan of mutations is still drawn by fast-check, so it is seeded.
import fc from 'fast-check';

/** Integers that break size and offset arithmetic: 0, 2^31, 2^32, 2^40, 2^53, 2^64 − 1, negatives. */
export const BOUNDARY_INTEGERS: readonly bigint[] = [
  0n,
  1n,
  0x7fn,
  0xffn,
  0x7fffn,
  0xffffn,
  2n ** 31n - 1n,
  2n ** 31n,
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 40n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  2n ** 64n - 1n,
  -1n,
  -(2n ** 31n),
  -(2n ** 53n),
];

/** The same boundaries, and a few non-integers, as JSON number texts (replacing digits inside JSON). */
export const BOUNDARY_NUMBER_TEXTS: readonly string[] = [
  ...BOUNDARY_INTEGERS.map(String),
  '1e308',
  '1e309',
  '-1e309',
  '-0',
  '0.5',
  '1e-400',
  '123456789012345678901234567890',
  '4.0',
  '1E3',
];

/** Bytes that change the structure of the formats we read (JSON punctuation, NUL, a UTF-8 lead byte). */
const STRUCTURAL_BYTES = [0x00, 0x22, 0x2c, 0x3a, 0x5b, 0x5d, 0x7b, 0x7d, 0x5c, 0x0a, 0xff, 0xc3, 0xed, 0x30];

type Op =
  | { op: 'flip'; at: number; hot: boolean; bit: number }
  | { op: 'insert'; at: number; hot: boolean; bytes: number[] }
  | { op: 'delete'; at: number; hot: boolean; length: number }
  | { op: 'splice'; at: number; hot: boolean; from: number; length: number; donor: number }
  | { op: 'int'; at: number; hot: boolean; width: 1 | 2 | 4 | 8; value: number }
  | { op: 'number'; at: number; hot: boolean; value: number }
  | { op: 'truncate'; at: number; hot: boolean };

/** A mutation plan: which seed, then one or more operations. Positions are reduced modulo the current length. */
export interface MutationPlan {
  seed: number;
  ops: Op[];
}

const at = fc.nat();
const hot = fc.boolean();
const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('flip' as const), at, hot, bit: fc.nat(7) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('insert' as const),
      at,
      hot,
      bytes: fc.array(fc.oneof(fc.constantFrom(...STRUCTURAL_BYTES), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 16,
      }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('delete' as const),
      at,
      hot,
      length: fc.integer({ min: 1, max: 64 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('splice' as const),
      at,
      hot,
      from: fc.nat(),
      length: fc.integer({ min: 1, max: 256 }),
      donor: fc.nat(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('int' as const),
      at,
      hot,
      width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
      value: fc.nat(BOUNDARY_INTEGERS.length - 1),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('number' as const),
      at,
      hot,
      value: fc.nat(BOUNDARY_NUMBER_TEXTS.length - 1),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at, hot }) },
);

/** Plans of 1–4 operations (mostly one: a single change keeps the rest of the file valid and reaches deeper). */
export const mutationPlan: fc.Arbitrary<MutationPlan> = fc.record({
  seed: fc.nat(),
  ops: fc.oneof(
    { weight: 3, arbitrary: fc.array(opArbitrary, { minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.array(opArbitrary, { minLength: 2, maxLength: 4 }) },
  ),
});

/** A seed file, and how many of its first bytes are "hot" (a header) and should take most mutations. */
export interface Seed {
  name: string;
  bytes: Uint8Array;
  hotLength: number;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const ASCII_DIGIT = (b: number | undefined) => b !== undefined && b >= 0x30 && b <= 0x39;

/** Applies a plan to its seed (the seed bytes are not modified). */
export function applyMutations(plan: MutationPlan, seeds: readonly Seed[]): Uint8Array {
  const seed = seeds[plan.seed % seeds.length]!;
  let bytes = seed.bytes;
  for (const o of plan.ops) {
    const region = o.hot ? Math.min(seed.hotLength, bytes.length) : bytes.length;
    const pos = region === 0 ? 0 : o.at % region;
    switch (o.op) {
      case 'flip': {
        if (bytes.length === 0) break;
        bytes = bytes.slice();
        bytes[pos] = bytes[pos]! ^ (1 << o.bit);
        break;
      }
      case 'insert':
        bytes = concat(bytes.subarray(0, pos), Uint8Array.from(o.bytes), bytes.subarray(pos));
        break;
      case 'delete':
        bytes = concat(bytes.subarray(0, pos), bytes.subarray(pos + o.length));
        break;
      case 'splice': {
        const donor = seeds[o.donor % seeds.length]!.bytes;
        const from = donor.length === 0 ? 0 : o.from % donor.length;
        bytes = concat(bytes.subarray(0, pos), donor.subarray(from, from + o.length), bytes.subarray(pos));
        break;
      }
      case 'int': {
        if (bytes.length < o.width) break;
        const p = Math.min(pos, bytes.length - o.width);
        bytes = bytes.slice();
        let v = BigInt.asUintN(o.width * 8, BOUNDARY_INTEGERS[o.value]!);
        for (let i = 0; i < o.width; i++, v >>= 8n) bytes[p + i] = Number(v & 0xffn);
        break;
      }
      case 'number': {
        // The run of ASCII digits at or after `pos` (a JSON number, an offset, a size) becomes a boundary value.
        let start = pos;
        while (start < bytes.length && !ASCII_DIGIT(bytes[start])) start++;
        if (start >= bytes.length) break;
        let end = start;
        while (ASCII_DIGIT(bytes[end])) end++;
        const text = new TextEncoder().encode(BOUNDARY_NUMBER_TEXTS[o.value]!);
        bytes = concat(bytes.subarray(0, start), text, bytes.subarray(end));
        break;
      }
      case 'truncate':
        bytes = bytes.subarray(0, pos);
        break;
    }
  }
  return bytes;
}
