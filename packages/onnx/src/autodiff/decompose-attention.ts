import { TensorProto_DataType as DataType, type NodeProto } from 'onnx-buf';
import { floatAttr, intAttr } from '../graph/attributes.js';
import type { GraphBuilder } from '../graph/graph-builder.js';
import { AutodiffError, describeNode } from './errors.js';

/**
 * com.microsoft `GroupQueryAttention` and `RotaryEmbedding` (onnxruntime-genai's model-builder graphs) written
 * with standard ai.onnx ops that have gradient rules, following onnxruntime's contrib-op definitions
 * (docs/ContribOperators.md) and its CPU kernel's position rule. Non-interleaved RoPE with `cos_cache`/`sin_cache`
 * `[max_positions, rotary_dim / 2]`; attention causal over `past + new` keys, key `j` of batch row `b` visible
 * while `j ≤ seqlens_k[b]` (GQA knows lengths, not a mask: left padding is attended to, as in the kernel).
 */

const INT64_MAX = Number.MAX_SAFE_INTEGER;
/** What masked scores become before the softmax (float32's lowest value; the row's max stays finite). */
const MASKED = -3.4028234663852886e38;

function refuse(n: NodeProto, why: string): never {
  throw new AutodiffError(`cannot decompose ${describeNode(n.opType, n.domain, n.name)}: ${why}`, {
    opType: n.opType,
    domain: n.domain,
    node: n.name,
  });
}

/** Static dims of an initializer or declared value, when the graph has them. */
function declaredDims(b: GraphBuilder, name: string): (number | undefined)[] | undefined {
  const t = b.graph.initializer.find((i) => i.name === name);
  if (t) return t.dims.map(Number);
  const v = [...b.graph.input, ...b.graph.valueInfo].find((i) => i.name === name);
  if (v?.type?.value.case !== 'tensorType') return undefined;
  return v.type.value.value.shape?.dim.map((d) =>
    d.value.case === 'dimValue' ? Number(d.value.value) : undefined,
  );
}

/** `Shape(x)[axis]` as a 1-element int64 tensor. */
const dim = (b: GraphBuilder, x: string, axis: number) =>
  b.op1('Slice', [b.op1('Shape', [x]), b.i64([axis]), b.i64([axis + 1])]);
const asScalar = (b: GraphBuilder, v: string) => b.op1('Squeeze', [v, b.i64([0])]);
const toInt64 = (b: GraphBuilder, v: string) => b.op1('Cast', [v], { to: { int: DataType.INT64 } });

/** Half the rotary width: the caches' second dim, which must be static (the builder's caches are initializers). */
function cacheHalf(b: GraphBuilder, n: NodeProto, cosCache: string): number {
  const d = declaredDims(b, cosCache);
  const half = d?.length === 2 ? d[1] : undefined;
  if (half === undefined)
    refuse(n, `cos_cache "${cosCache}" needs a static shape [positions, rotary_dim / 2]`);
  return half;
}

/**
 * RoPE on the last axis of `x` (`…, d`): the first `2·half` values rotated by `cos`/`sin` (broadcast against x's
 * leading axes, last axis `half`), the rest passed through when `passThrough`.
 */
function rotate(
  b: GraphBuilder,
  x: string,
  cos: string,
  sin: string,
  half: number,
  passThrough: boolean,
): string {
  const last = b.i64([-1]);
  const x1 = b.op1('Slice', [x, b.i64([0]), b.i64([half]), last]);
  const x2 = b.op1('Slice', [x, b.i64([half]), b.i64([2 * half]), last]);
  const parts = [
    b.op1('Sub', [b.op1('Mul', [x1, cos]), b.op1('Mul', [x2, sin])]),
    b.op1('Add', [b.op1('Mul', [x2, cos]), b.op1('Mul', [x1, sin])]),
  ];
  if (passThrough) parts.push(b.op1('Slice', [x, b.i64([2 * half]), b.i64([INT64_MAX]), last]));
  return b.op1('Concat', parts, { axis: { int: -1 } });
}

/** `RotaryEmbedding(input, position_ids, cos_cache, sin_cache)`; input `[B, S, H·d]` or `[B, H, S, d]`. */
export function expandRotaryEmbedding(b: GraphBuilder, n: NodeProto): string[] {
  const [x, positionIds, cosCache, sinCache] = n.input as [string, string, string, string];
  if (intAttr(n, 'interleaved', 0) !== 0) refuse(n, 'interleaved rotary is not supported');
  if (intAttr(n, 'is_packed_batching', 0) !== 0) refuse(n, 'packed batching is not supported');
  if (floatAttr(n, 'scale', 1) !== 1) refuse(n, 'a scale other than 1 is not supported');
  const half = cacheHalf(b, n, cosCache);
  const heads = intAttr(n, 'num_heads', 0);
  const rotaryDim = intAttr(n, 'rotary_embedding_dim', 0);
  if (rotaryDim !== 0 && rotaryDim !== 2 * half)
    refuse(n, `rotary_embedding_dim ${rotaryDim} disagrees with cos_cache's ${half} columns`);
  const partial = heads > 0 && rotaryDim > 0;
  // Positions [B, S] (or [1, S] from a scalar offset `[1]`).
  let pos = positionIds;
  if (declaredDims(b, positionIds)?.length === 1) {
    const seq = asScalar(b, dim(b, x, declaredDims(b, x)?.length === 4 ? 2 : 1));
    pos = b.unsqueeze(b.op1('Add', [b.op1('Range', [b.i64(0), seq, b.i64(1)]), positionIds]), [0]);
  }
  // One graph for both input ranks, chosen at run time: 3-D input is viewed as [B, S, heads, d] and the
  // caches as [B, S, 1, half]; a 4-D input [B, H, S, d] stays, with the caches as [B, 1, S, half].
  const is3d = b.op1('Equal', [b.op1('Shape', [b.op1('Shape', [x])]), b.i64([3])]);
  const view3 = partial ? b.i64([0, 0, heads, -1]) : b.i64([0, 0, -1, 2 * half]);
  const x4 = b.op1('Reshape', [x, b.op1('Where', [is3d, view3, b.i64([0, 0, 0, 0])])]);
  const cacheView = b.op1('Where', [is3d, b.i64([0, 0, 1, -1]), b.i64([0, 1, -1, half])]);
  const table = (cache: string) =>
    b.op1('Reshape', [b.op1('Gather', [cache, pos], { axis: { int: 0 } }), cacheView]);
  const y = rotate(b, x4, table(cosCache), table(sinCache), half, partial);
  return b.op('Reshape', [y, b.op1('Shape', [x])], {}, [n.output[0]!]);
}

/**
 * `GroupQueryAttention(query, key, value, past_key, past_value, seqlens_k, total_sequence_length, cos_cache,
 * sin_cache)` → `output`, `present_key`, `present_value` (BNSH, past + new). Packed QKV (no `key`) needs a static
 * head size (from the caches or a declared past).
 */
export function expandGroupQueryAttention(b: GraphBuilder, n: NodeProto): string[] {
  const [query, key, value, pastKey, pastValue, seqlensK, totalLen, cosCache, sinCache] = n.input;
  const extra = n.input.slice(9).findIndex((i) => i !== '');
  if (extra >= 0) refuse(n, `input ${9 + extra} (position_ids/attention_bias/head_sink/…) is not supported`);
  const heads = intAttr(n, 'num_heads', 0);
  const kvHeads = intAttr(n, 'kv_num_heads', 0);
  if (!(heads > 0 && kvHeads > 0 && heads % kvHeads === 0))
    refuse(n, `num_heads ${heads} must be a positive multiple of kv_num_heads ${kvHeads}`);
  if (intAttr(n, 'local_window_size', -1) !== -1)
    refuse(n, 'local (sliding window) attention is not supported');
  if (intAttr(n, 'rotary_interleaved', 0) !== 0) refuse(n, 'interleaved rotary is not supported');
  if (intAttr(n, 'smooth_softmax', 0) !== 0) refuse(n, 'smooth softmax is not supported');
  if (intAttr(n, 'causal', 1) !== 1) refuse(n, 'non-causal attention is not supported');
  if (!seqlensK || !totalLen) refuse(n, 'seqlens_k and total_sequence_length are required');
  const rotary = intAttr(n, 'do_rotary', 0) === 1;
  if (rotary && !(cosCache && sinCache)) refuse(n, 'do_rotary needs cos_cache and sin_cache');
  const half = rotary ? cacheHalf(b, n, cosCache!) : undefined;
  const pastDims = pastKey ? declaredDims(b, pastKey) : undefined;
  const headSize = pastDims?.[3] ?? (half !== undefined ? 2 * half : undefined);

  let [q, k, v] = [query!, key, value];
  if (!k) {
    if (headSize === undefined)
      refuse(n, 'packed QKV needs a static head size (rotary caches or a declared past)');
    [q, k, v] = b.split(q, [heads * headSize, kvHeads * headSize, kvHeads * headSize], -1) as [
      string,
      string,
      string,
    ];
  }
  const bnsh = (x: string, h: number) =>
    b.transpose(b.op1('Reshape', [x, b.i64([0, 0, h, -1])]), [0, 2, 1, 3]);
  let q4 = bnsh(q, heads);
  let k4 = bnsh(k, kvHeads);
  const v4 = bnsh(v!, kvHeads);

  const seq = asScalar(b, dim(b, q, 1));
  const seqlens = toInt64(b, seqlensK); // [B]
  const past = pastKey ? asScalar(b, dim(b, pastKey, 2)) : b.i64(0);
  const steps = b.op1('Range', [b.i64(0), seq, b.i64(1)]); // [S]
  if (rotary) {
    // The kernel's positions: 0…S−1 on the first prompt (S = total_sequence_length), else past_b + s with
    // past_b = seqlens_k[b] + 1 − S.
    const first = b.op1('Equal', [toInt64(b, totalLen), seq]);
    const later = b.op1('Add', [
      b.unsqueeze(b.op1('Sub', [b.op1('Add', [seqlens, b.i64(1)]), seq]), [1]),
      b.unsqueeze(steps, [0]),
    ]);
    const pos = b.op1('Where', [first, b.unsqueeze(steps, [0]), later]); // [B, S]
    const table = (cache: string) => b.unsqueeze(b.op1('Gather', [cache, pos], { axis: { int: 0 } }), [1]);
    const [cos, sin] = [table(cosCache!), table(sinCache!)];
    const partial = headSize !== undefined && headSize > 2 * half!;
    q4 = rotate(b, q4, cos, sin, half!, partial);
    k4 = rotate(b, k4, cos, sin, half!, partial);
  }
  const cat = (p: string | undefined, x: string, out: string | undefined) => {
    if (!p) return out ? b.op('Identity', [x], {}, [out])[0]! : x;
    return b.op('Concat', [p, x], { axis: { int: 2 } }, out ? [out] : 1)[0]!;
  };
  const kAll = cat(pastKey, k4, n.output[1] || undefined);
  const vAll = cat(pastValue, v4, n.output[2] || undefined);
  const rep = heads / kvHeads;
  const repeat = (x: string) => {
    if (rep === 1) return x;
    const shape = b.op1('Shape', [x]);
    const target = b.op1(
      'Concat',
      [
        b.op1('Slice', [shape, b.i64([0]), b.i64([1])]),
        b.i64([heads]),
        b.op1('Slice', [shape, b.i64([2]), b.i64([4])]),
      ],
      { axis: { int: 0 } },
    );
    const wide = b.op1('Expand', [b.unsqueeze(x, [2]), b.i64([1, 1, rep, 1, 1])]);
    return b.op1('Reshape', [wide, target]);
  };
  const scaleAttr = floatAttr(n, 'scale', 0);
  let scale: string;
  if (scaleAttr !== 0) scale = b.f(scaleAttr);
  else if (headSize !== undefined) scale = b.f(1 / Math.sqrt(headSize));
  else {
    const d = b.op1('Cast', [dim(b, q4, 3)], { to: { int: b.floatType } });
    scale = b.op1('Reciprocal', [b.op1('Sqrt', [d])]);
  }
  let scores = b.op1('Mul', [b.op1('MatMul', [q4, b.transpose(repeat(kAll), [0, 1, 3, 2])]), scale]);
  const softcap = floatAttr(n, 'softcap', 0);
  if (softcap > 0)
    scores = b.op1('Mul', [b.op1('Tanh', [b.op1('Div', [scores, b.f(softcap)])]), b.f(softcap)]);
  // Query s sits at past + s; it sees key j when j ≤ past + s and j ≤ seqlens_k[b].
  const total = asScalar(b, dim(b, kAll, 2));
  const keys = b.op1('Range', [b.i64(0), total, b.i64(1)]); // [T]
  const causal = b.op1('LessOrEqual', [
    b.unsqueeze(keys, [0]),
    b.unsqueeze(b.op1('Add', [steps, past]), [1]),
  ]);
  const valid = b.op1('LessOrEqual', [b.unsqueeze(keys, [0]), b.unsqueeze(seqlens, [1])]); // [B, T]
  const allowed = b.op1('And', [b.unsqueeze(causal, [0, 1]), b.unsqueeze(valid, [1, 2])]); // [B, 1, S, T]
  const probs = b.softmaxLast(b.op1('Where', [allowed, scores, b.f(MASKED)]));
  const ctx = b.transpose(b.op1('MatMul', [probs, repeat(vAll)]), [0, 2, 1, 3]);
  b.op('Reshape', [ctx, b.i64([0, 0, -1])], {}, [n.output[0]!]);
  return n.output.slice(0, 3);
}
