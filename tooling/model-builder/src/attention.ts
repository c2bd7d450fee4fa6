import { DType, INT64_MAX, constF32, constI64, type ModelGraph } from './model-graph.js';

/** float32's lowest value: what transformers adds for masked positions (a fully masked row stays finite). */
const MASK_MIN = -3.4028234663852886e38;

/** Scalar dimension `axis` of `x` (Shape + Gather with a scalar index, as TorchScript writes `x.size(axis)`). */
export function dimOf(g: ModelGraph, scope: string, x: string, axis: number): string {
  const shape = g.at(scope).op1('Shape', [x]);
  return g.at(scope).op1('Gather', [shape, constI64(g.at(scope), [axis], true)], { axis: { int: 0 } });
}

/** `Range(start, limit, 1)` of int64 scalars. */
export function range(g: ModelGraph, scope: string, start: string, limit: string): string {
  return g.at(scope).op1('Range', [start, limit, constI64(g.at(scope), [1], true)]);
}

/**
 * The additive causal + padding mask `[batch, 1, seq, total]` (0 where allowed, float32 min elsewhere): query `i`
 * sits at absolute position `past + i` with `past = total - seq`, and sees key `j` iff `j <= past + i` and
 * `attention_mask[b, j] == 1`.
 */
export function causalMaskBias(
  g: ModelGraph,
  scope: string,
  inputIds: string,
  attentionMask: string,
): string {
  const total = dimOf(g, scope, attentionMask, 1);
  const seq = dimOf(g, scope, inputIds, 1);
  const past = g.at(scope).op1('Sub', [total, seq]);
  const qPos = g.at(scope).op1('Unsqueeze', [range(g, scope, past, total), constI64(g.at(scope), [1])]);
  const kPos = g
    .at(scope)
    .op1('Unsqueeze', [range(g, scope, constI64(g.at(scope), [0], true), total), constI64(g.at(scope), [0])]);
  const causal = g.at(scope).op1('LessOrEqual', [kPos, qPos]);
  const pad = g.at(scope).op1('Cast', [attentionMask], { to: { int: DType.BOOL } });
  const pad4 = g.at(scope).op1('Unsqueeze', [pad, constI64(g.at(scope), [1, 2])]);
  const allowed = g.at(scope).op1('And', [pad4, causal]);
  return g.at(scope).op1('Where', [allowed, constF32(g.at(scope), 0), constF32(g.at(scope), MASK_MIN)]);
}

/** BERT's extended mask `(1 - mask) * min` as `[batch, 1, 1, total]`. */
export function paddingMaskBias(g: ModelGraph, scope: string, attentionMask: string): string {
  const m = g.at(scope).op1('Unsqueeze', [attentionMask, constI64(g.at(scope), [1, 2])]);
  const mf = g.at(scope).op1('Cast', [m], { to: { int: DType.FLOAT } });
  const inv = g.at(scope).op1('Sub', [constF32(g.at(scope), 1), mf]);
  return g.at(scope).op1('Mul', [inv, constF32(g.at(scope), MASK_MIN)]);
}

/** `[batch, seq, heads·dim]` → `[batch, heads, seq, dim]`. */
export function splitHeads(g: ModelGraph, scope: string, x: string, heads: number, headDim: number): string {
  const r = g
    .at(scope)
    .op1('Reshape', [x, constI64(g.at(scope), [0, 0, heads, headDim])], { allowzero: { int: 0 } });
  return g.at(scope).op1('Transpose', [r], { perm: { ints: [0, 2, 1, 3] } });
}

/** `[batch, heads, seq, dim]` → `[batch, seq, heads·dim]`. */
export function mergeHeads(g: ModelGraph, scope: string, x: string, width: number): string {
  const t = g.at(scope).op1('Transpose', [x], { perm: { ints: [0, 2, 1, 3] } });
  return g.at(scope).op1('Reshape', [t, constI64(g.at(scope), [0, 0, width])], { allowzero: { int: 0 } });
}

/** GQA `repeat_kv`: `[b, kvH, t, d]` → `[b, kvH·rep, t, d]` via Unsqueeze, Expand, Reshape. */
export function repeatKv(
  g: ModelGraph,
  scope: string,
  x: string,
  rep: number,
  heads: number,
  headDim: number,
): string {
  if (rep === 1) return x;
  const u = g.at(scope).op1('Unsqueeze', [x, constI64(g.at(scope), [2])]);
  const e = g.at(scope).op1('Expand', [u, constI64(g.at(scope), [1, 1, rep, 1, 1])]);
  return g
    .at(scope)
    .op1('Reshape', [e, constI64(g.at(scope), [0, heads, -1, headDim])], { allowzero: { int: 0 } });
}

/**
 * Eager attention: softmax(q·kᵀ·scale + bias)·v. `scaleOp` picks how the export writes the scale: Llama/Qwen2 `Mul`
 * by 1/√d, GPT-2 and BERT `Div` by √d.
 */
export function attend(
  g: ModelGraph,
  scope: string,
  q: string,
  k: string,
  v: string,
  bias: string,
  headDim: number,
  scaleOp: 'Mul' | 'Div',
): string {
  const kt = g.at(scope).op1('Transpose', [k], { perm: { ints: [0, 1, 3, 2] } });
  const scores = g.at(scope).op1('MatMul', [q, kt]);
  const s = Math.sqrt(headDim);
  const scaled = g.at(scope).op1(scaleOp, [scores, constF32(g.at(scope), scaleOp === 'Mul' ? 1 / s : s)]);
  const probs = g.at(scope).op1('Softmax', [g.at(scope).op1('Add', [scaled, bias])], { axis: { int: -1 } });
  return g.at(scope).op1('MatMul', [probs, v]);
}

/** Llama's `rotate_half` and `x·cos + rotate_half(x)·sin` on `[b, h, s, d]`. */
export function applyRotary(
  g: ModelGraph,
  scope: string,
  x: string,
  cos: string,
  sin: string,
  headDim: number,
): string {
  const half = headDim / 2;
  const axes = constI64(g.at(scope), [3]);
  const x1 = g
    .at(scope)
    .op1('Slice', [
      x,
      constI64(g.at(scope), [0]),
      constI64(g.at(scope), [half]),
      axes,
      constI64(g.at(scope), [1]),
    ]);
  const x2 = g
    .at(scope)
    .op1('Slice', [
      x,
      constI64(g.at(scope), [half]),
      constI64(g.at(scope), [INT64_MAX]),
      axes,
      constI64(g.at(scope), [1]),
    ]);
  const rot = g.at(scope).op1('Concat', [g.at(scope).op1('Neg', [x2]), x1], { axis: { int: -1 } });
  return g.at(scope).op1('Add', [g.at(scope).op1('Mul', [x, cos]), g.at(scope).op1('Mul', [rot, sin])]);
}

/**
 * Rotary tables `cos`, `sin` of shape `[b, 1, s, d]` from int64 `positionIds` `[b, s]` (or `[1, s]`).
 */
export function rotaryTables(
  g: ModelGraph,
  scope: string,
  positionIds: string,
  headDim: number,
  theta: number,
): { cos: string; sin: string } {
  const invFreq = Array.from({ length: headDim / 2 }, (_, i) => 1 / theta ** ((2 * i) / headDim));
  const pos = g
    .at(scope)
    .op1('Unsqueeze', [
      g.at(scope).op1('Cast', [positionIds], { to: { int: DType.FLOAT } }),
      constI64(g.at(scope), [2]),
    ]);
  const freqs = g.at(scope).op1('Mul', [pos, constF32(g.at(scope), invFreq)]);
  const emb = g.at(scope).op1('Concat', [freqs, freqs], { axis: { int: -1 } });
  const heads = constI64(g.at(scope), [1]);
  return {
    cos: g.at(scope).op1('Unsqueeze', [g.at(scope).op1('Cos', [emb]), heads]),
    sin: g.at(scope).op1('Unsqueeze', [g.at(scope).op1('Sin', [emb]), heads]),
  };
}
