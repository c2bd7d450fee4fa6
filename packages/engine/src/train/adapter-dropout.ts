import { DataType, GraphBuilder, GraphIndex, UniqueNames, tensorValueInfo, type GraphProto } from '@mor/onnx';
import { TrainSetupError } from './train-errors.js';

/** The int32 scalar input of the train graph that numbers the micro-batch (0, 1, 2, …) the dropout masks are for. */
export const DROPOUT_STEP_INPUT = 'dropout_step';

/** Options of {@link addAdapterDropout}. */
export interface AdapterDropoutOptions {
  /** The `A` parameter of each adapted layer (`mor.<module>.A` / `lora.<module>.A`). */
  downProjections: string[];
  /** Drop probability, 0 < p < 1. */
  p: number;
  /** Seed of the first layer's masks; layer i uses `seed + i`. */
  seed: number;
  opset: number;
}

// Odd multipliers of the hash (murmur/xxhash constants as signed int32).
const K_INDEX = 0x9e3779b1 | 0;
const K_STEP = 0x85ebca77 | 0;
const K_SEED = 0xc2b2ae3d | 0;
const K_MIX1 = 0x165667b1;
const K_MIX2 = 0x85ebca6b | 0;

/**
 * Inserts `lora_dropout` on the adapter input (mor-spec §1: `u = A · drop(x)`; the router and the base layer
 * keep `x`): `x · [u ≥ p] / (1 − p)` before the `MatMul(x, Aᵀ)` of each layer. `u` is a counter-based hash of
 * (seed + layer, the `dropout_step` input, the element's flat index), made in the graph from int32
 * Mul/Add/Div (which wrap/truncate alike on CPU and WebGPU; opset 14 ops, no bitwise ones) — so the masks
 * need no per-step upload, and a session that resumes at micro-batch n (fed `dropout_step = n`) draws exactly
 * the masks an uninterrupted run drew there, which an in-graph RNG with a fixed seed would not (it restarts).
 * Only the train graph gets this; evaluation runs without dropout. Mutates `graph`.
 */
export function addAdapterDropout(graph: GraphProto, o: AdapterDropoutOptions): void {
  const index = new GraphIndex(graph);
  const names = new UniqueNames(graph);
  if (!graph.input.some((v) => v.name === DROPOUT_STEP_INPUT))
    graph.input.push(tensorValueInfo(DROPOUT_STEP_INPUT, DataType.INT32, []));
  o.downProjections.forEach((a, i) => {
    const transpose = index.consumers.get(a)?.find((n) => n.opType === 'Transpose');
    const matmul = transpose && index.consumers.get(transpose.output[0]!)?.find((n) => n.opType === 'MatMul');
    if (!matmul)
      throw new TrainSetupError(`cannot place dropout: no MatMul(x, Transpose("${a}")) in the graph`, {
        tensor: a,
      });
    const b = new GraphBuilder(graph, {
      names,
      opset: o.opset,
      scope: `/dropout/${a}`,
      place: { before: matmul },
    });
    const x = matmul.input[0]!;
    const u = uniformHash(b, x, Math.imul((o.seed + i) | 0, K_SEED));
    const drop = b.op1('Less', [u, b.f(o.p, [], 'p')]);
    const keep = b.op1('Cast', [b.op1('Not', [drop])], { to: { int: DataType.FLOAT } });
    matmul.input[0] = b.op1('Mul', [x, b.op1('Mul', [keep, b.f(1 / (1 - o.p), [], 'scale')])]);
  });
}

/**
 * A float tensor shaped like `x` of hash values in [0, 1): h = idx·K + step·K' + seedTerm, then rounds of
 * "multiply by an odd number, add the high bits" (`h / 2^k` stands in for `h >>> k`, as bit ops need opset 18;
 * one round multiplies by an h-dependent odd factor, which breaks the linearity between neighbouring indices),
 * and the top 24 bits scaled to [0, 1).
 */
function uniformHash(b: GraphBuilder, x: string, seedTerm: number): string {
  const i32 = (v: number) => b.op1('Cast', [b.i64(v)], { to: { int: DataType.INT32 } });
  const size = b.op1('Cast', [b.op1('Size', [x])], { to: { int: DataType.INT32 } });
  const idx = b.op1('Reshape', [b.op1('Range', [i32(0), size, i32(1)]), b.op1('Shape', [x])]);
  const base = b.op1('Add', [b.op1('Mul', [DROPOUT_STEP_INPUT, i32(K_STEP)]), i32(seedTerm)]);
  let h = b.op1('Add', [b.op1('Mul', [idx, i32(K_INDEX)]), base]);
  const high = (bits: number) => b.op1('Div', [h, i32(2 ** bits)]);
  const two = i32(2);
  h = b.op1('Mul', [h, b.op1('Add', [b.op1('Mul', [high(16), two]), i32(1)])]);
  h = b.op1('Add', [h, high(13)]);
  h = b.op1('Mul', [h, i32(K_MIX1)]);
  h = b.op1('Add', [h, high(16)]);
  h = b.op1('Mul', [h, i32(K_MIX2)]);
  h = b.op1('Add', [h, high(15)]);
  const top = b.op1('Cast', [high(8)], { to: { int: DataType.FLOAT } }); // in (−2^23, 2^23)
  return b.op1('Mul', [b.op1('Add', [top, b.f(2 ** 23, [], 'offset')]), b.f(2 ** -24, [], 'unit')]);
}
