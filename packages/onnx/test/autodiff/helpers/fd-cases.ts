import { TensorProto_DataType as DataType, type TensorProto } from 'onnx-buf';
import { decomposeFusedOps } from '../../../src/autodiff/decompose.js';
import { floatTensor, rawTensor } from '../../../src/graph/tensor-data.js';
import type { AttrValue } from './onnx-model.js';
import type { FdCase } from './gradient-check.js';
import { node } from './onnx-model.js';

// One or more finite-difference cases per gradient-table entry (and per decomposition). Each is a tiny graph
// around the op; gradient-check.ts turns it into a scalar loss with random upstream weights.

const ints = (values: number[], dims = [values.length]) => ({ values, dims });

/** Unary op on one [2,3] input. */
const unary = (op: string, range?: [number, number], attrs: Record<string, AttrValue> = {}): FdCase => ({
  op: `:${op}`,
  label: op,
  inputs: { x: [2, 3] },
  range,
  nodes: [node(op, ['x'], ['y'], attrs)],
  outputs: ['y'],
});

/** Binary op with shapes `a` and `b` (broadcasting when they differ). */
const binary = (op: string, a: number[], b: number[], range?: [number, number]): FdCase => ({
  op: `:${op}`,
  label: `${op} ${JSON.stringify(a)}·${JSON.stringify(b)}`,
  inputs: { a, b },
  range,
  nodes: [node(op, ['a', 'b'], ['y'])],
  outputs: ['y'],
});

const matmul = (a: number[], b: number[], unknownRank = false): FdCase => ({
  ...binary('MatMul', a, b),
  label: `MatMul ${JSON.stringify(a)}@${JSON.stringify(b)}${unknownRank ? ' (ranks unknown)' : ''}`,
  // Reshape to a Shape with a `start` attribute hides the rank from static inference: exercises the Einsum path.
  ...(unknownRank && {
    nodes: ['a', 'b']
      .flatMap((t) => [node('Shape', [t], [`${t}s`], { start: 0 }), node('Reshape', [t, `${t}s`], [`${t}1`])])
      .concat(node('MatMul', ['a1', 'b1'], ['y'])),
  }),
});

/**
 * MatMul against a constant 2-D weight (a frozen base weight): dA goes through `Gemm(dy, W, transB=1)` on the
 * flattened batch, not `Transpose(W)` (rule-helpers.ts `frozenWeightInputGrad`). Float64, as the other cases.
 */
const matmulFrozen = (a: number[], k: number, n: number): FdCase => ({
  op: ':MatMul',
  label: `MatMul ${JSON.stringify(a)}@frozen [${k},${n}]`,
  inputs: { a },
  nodes: [node('MatMul', ['a', 'w'], ['y'])],
  initializers: [
    floatTensor(
      'w',
      [k, n],
      Array.from({ length: k * n }, (_, i) => Math.sin(1.7 * i + 0.3)),
      DataType.DOUBLE,
    ),
  ],
  outputs: ['y'],
});

const gemm = (transA: number, transB: number, c: number[] | undefined): FdCase => ({
  op: ':Gemm',
  label: `Gemm tA${transA} tB${transB} C${JSON.stringify(c)}`,
  inputs: { a: transA ? [3, 2] : [2, 3], b: transB ? [4, 3] : [3, 4], ...(c && { c }) },
  nodes: [
    node('Gemm', ['a', 'b', ...(c ? ['c'] : [])], ['y'], {
      transA,
      transB,
      alpha: { f: 0.7 },
      beta: { f: 1.3 },
    }),
  ],
  outputs: ['y'],
});

const withInts = (c: FdCase, i: Record<string, { values: number[]; dims: number[] }>): FdCase => ({
  ...c,
  ints: i,
});

const decomposed = (
  op: string,
  domain: string,
  inputs: Record<string, number[]>,
  attrs: Record<string, AttrValue> = {},
  range?: [number, number],
): FdCase => ({
  op: `${domain}:${op}`,
  label: `${op} (decomposed)`,
  inputs,
  range,
  float32: true,
  nodes: [node(op, Object.keys(inputs), ['y'], attrs, domain)],
  outputs: ['y'],
  prepare: (g) => void decomposeFusedOps(g, { floatType: DataType.FLOAT }),
});

/**
 * com.microsoft MatMulNBits `y = a · dequant(B)ᵀ` over a fixed random packed weight `[N, nBlocks, blob]` (K not a
 * multiple of the block: the last block is padded); zero points packed (uint8), in float, or absent (2^(bits−1)).
 */
function matmulNBits(bits: 2 | 4, zeroPoints: 'packed' | 'float' | 'none'): FdCase {
  const [k, n, blockSize] = [40, 3, 32];
  const nBlocks = Math.ceil(k / blockSize);
  const perByte = 8 / bits;
  const bytes = (count: number, salt: number) =>
    Uint8Array.from({ length: count }, (_, i) => (i * 37 + salt * 11 + 5) % 256);
  const packed = bytes((n * nBlocks * blockSize) / perByte, 1);
  const scales = Array.from({ length: n * nBlocks }, (_, i) => 0.05 + 0.01 * i);
  const inputs = ['a', 'B', 's'];
  const initializers = [
    rawTensor('B', [n, nBlocks, blockSize / perByte], packed),
    floatTensor('s', [n * nBlocks], scales),
  ];
  if (zeroPoints === 'packed') {
    initializers.push(
      rawTensor('zp', [n * Math.ceil(nBlocks / perByte)], bytes(n * Math.ceil(nBlocks / perByte), 2)),
    );
    inputs.push('zp');
  } else if (zeroPoints === 'float') {
    initializers.push(
      floatTensor(
        'zp',
        [n * nBlocks],
        Array.from({ length: n * nBlocks }, (_, i) => 100 + i),
      ),
    );
    inputs.push('zp');
  }
  return {
    op: 'com.microsoft:MatMulNBits',
    label: `MatMulNBits ${bits}-bit, zero points ${zeroPoints}`,
    inputs: { a: [2, 2, k] },
    float32: true, // onnxruntime's MatMulNBits has float and float16 kernels only
    initializers,
    nodes: [node('MatMulNBits', inputs, ['y'], { K: k, N: n, bits, block_size: blockSize }, 'com.microsoft')],
    outputs: ['y'],
  };
}

/** RoPE caches `[positions, half]` for the attention cases (cos/sin of position · frequency). */
function ropeCaches(positions: number, half: number): TensorProto[] {
  const angle = (p: number, i: number) => p * 10000 ** (-i / half);
  const table = (f: (a: number) => number) =>
    Array.from({ length: positions * half }, (_, j) => f(angle(Math.floor(j / half), j % half)));
  return [
    floatTensor('cos', [positions, half], table(Math.cos)),
    floatTensor('sin', [positions, half], table(Math.sin)),
  ];
}

/** com.microsoft RotaryEmbedding on a 3-D `[1, 3, 2·4]` or 4-D `[1, 2, 3, 4]` input (decomposed). */
const rotaryEmbedding = (x: number[]): FdCase => ({
  ...decomposed('RotaryEmbedding', 'com.microsoft', { x }),
  label: `RotaryEmbedding ${JSON.stringify(x)} (decomposed)`,
  ints: { pos: ints([2, 0, 5], [1, 3]) },
  initializers: ropeCaches(8, 2),
  nodes: [node('RotaryEmbedding', ['x', 'pos', 'cos', 'sin'], ['y'], {}, 'com.microsoft')],
});

/**
 * com.microsoft GroupQueryAttention (decomposed), 2 query heads over 1 KV head of size d (the kernel wants d a
 * multiple of 8, of 16 with RoPE): `past` — a past of 2, 3 new tokens, RoPE inside (batch 1); `padded` — no past,
 * no rotary, a right-padded batch of 2 (seqlens_k [2, 1]); `packed` — q, k and v in one input, with a past.
 */
function groupQueryAttention(kind: 'past' | 'padded' | 'packed'): FdCase {
  const withPast = kind !== 'padded';
  const batch = withPast ? 1 : 2;
  const d = withPast ? 16 : 8;
  const int32 = (name: string, dims: number[], v: number[]) => rawTensor(name, dims, Int32Array.from(v));
  const inputs: Record<string, number[]> =
    kind === 'packed' ? { q: [1, 3, 4 * d] } : { q: [batch, 3, 2 * d], k: [batch, 3, d], v: [batch, 3, d] };
  if (withPast) Object.assign(inputs, { pk: [1, 1, 2, d], pv: [1, 1, 2, d] });
  const qkv = kind === 'packed' ? ['q', '', ''] : ['q', 'k', 'v'];
  const gqaInputs = [...qkv, withPast ? 'pk' : '', withPast ? 'pv' : '', 'seqlens', 'total'];
  const labels = {
    past: 'past 2 + 3 tokens, do_rotary',
    padded: 'no past, padded batch',
    packed: 'packed QKV, past 2',
  };
  return {
    op: 'com.microsoft:GroupQueryAttention',
    label: `GroupQueryAttention ${labels[kind]} (decomposed)`,
    inputs,
    float32: true,
    initializers: [
      int32('seqlens', [batch], withPast ? [4] : [2, 1]),
      int32('total', [], [withPast ? 5 : 3]),
      ...(withPast ? ropeCaches(8, d / 2) : []),
    ],
    nodes: [
      node(
        'GroupQueryAttention',
        withPast ? [...gqaInputs, 'cos', 'sin'] : gqaInputs,
        ['y', 'pk_out', 'pv_out'],
        { num_heads: 2, kv_num_heads: 1, do_rotary: withPast ? 1 : 0, scale: { f: 0.4 } },
        'com.microsoft',
      ),
    ],
    outputs: ['y', 'pk_out', 'pv_out'],
    prepare: (g) => void decomposeFusedOps(g, { floatType: DataType.FLOAT }),
  };
}

export const FD_CASES: FdCase[] = [
  binary('Add', [2, 3], [2, 3]),
  binary('Add', [2, 3], [3]),
  binary('Add', [2, 1, 3], [4, 1]),
  binary('Sub', [2, 3], [2, 1]),
  binary('Mul', [2, 1, 3], [4, 1]),
  binary('Mul', [2, 3], []),
  binary('Div', [2, 3], [3], [0.5, 1.5]),
  binary('Pow', [2, 3], [3], [0.5, 1.5]),
  binary('Max', [2, 3], [3]),
  binary('Min', [2, 3], [2, 1]),
  {
    op: ':Sum',
    label: 'Sum of 3 with broadcast',
    inputs: { a: [2, 3], b: [3], c: [2, 1] },
    nodes: [node('Sum', ['a', 'b', 'c'], ['y'])],
    outputs: ['y'],
  },
  {
    op: ':Where',
    label: 'Where broadcast',
    inputs: { a: [2, 3], b: [3] },
    ints: { m: ints([1, 0, 1, 0, 0, 1], [2, 3]) },
    nodes: [node('Cast', ['m'], ['cond'], { to: DataType.BOOL }), node('Where', ['cond', 'a', 'b'], ['y'])],
    outputs: ['y'],
  },
  withInts(
    {
      op: ':Expand',
      label: 'Expand [3,1]→[2,3,4]',
      inputs: { x: [3, 1] },
      nodes: [node('Expand', ['x', 's'], ['y'])],
      outputs: ['y'],
    },
    { s: ints([2, 3, 4]) },
  ),
  matmul([2, 3], [3, 4]),
  matmul([2, 2, 3], [3, 4]),
  matmul([2, 2, 3], [2, 3, 4]),
  matmul([2, 1, 2, 3], [3, 3, 2]),
  matmul([3], [3, 4]),
  matmul([2, 3], [3]),
  matmul([3], [3]),
  matmul([3], [2, 3, 4]),
  matmul([2, 2, 3], [2, 3, 4], true),
  matmul([2, 1, 2, 3], [3, 3, 2], true),
  matmulFrozen([2, 3], 3, 4),
  matmulFrozen([2, 2, 3], 3, 4),
  matmulFrozen([2, 1, 2, 5], 5, 2),
  gemm(0, 0, [2, 4]),
  gemm(1, 0, [4]),
  gemm(0, 1, undefined),
  gemm(1, 1, [2, 1]),
  unary('Neg'),
  unary('Identity'),
  unary('Abs'),
  unary('Sqrt', [0.5, 2]),
  unary('Reciprocal', [0.5, 2]),
  unary('Exp'),
  unary('Log', [0.5, 2]),
  unary('Sin'),
  unary('Cos'),
  unary('Tanh'),
  unary('Sigmoid'),
  { ...unary('Erf'), float32: true },
  unary('Relu'),
  unary('Cast', undefined, { to: DataType.DOUBLE }),
  { ...unary('Softmax', undefined, { axis: 1 }), inputs: { x: [2, 3, 2] } },
  unary('Softmax'),
  unary('LogSoftmax'),
  { ...unary('LogSoftmax', undefined, { axis: 0 }), inputs: { x: [3, 2, 2] } },
  withInts(
    {
      ...unary('ReduceSum', undefined, { keepdims: 0 }),
      nodes: [node('ReduceSum', ['x', 'ax'], ['y'], { keepdims: 0 })],
      inputs: { x: [2, 3, 2] },
    },
    { ax: ints([1, -1]) },
  ),
  withInts({ ...unary('ReduceSum'), nodes: [node('ReduceSum', ['x', 'ax'], ['y'])] }, { ax: ints([0]) }),
  unary('ReduceSum', undefined, { keepdims: 0 }),
  unary('ReduceSum', undefined, { noop_with_empty_axes: 1 }),
  { ...unary('ReduceMean', undefined, { axes: [-1] }), inputs: { x: [2, 3, 2] } },
  { ...unary('ReduceMean', undefined, { axes: [0, 2], keepdims: 0 }), inputs: { x: [2, 3, 2] } },
  unary('ReduceMean', undefined, { keepdims: 0 }),
  { ...unary('Transpose', undefined, { perm: [2, 0, 1] }), inputs: { x: [2, 3, 4] } },
  unary('Transpose'),
  withInts(
    {
      op: ':Reshape',
      label: 'Reshape',
      inputs: { x: [2, 6] },
      nodes: [node('Reshape', ['x', 's'], ['y'])],
      outputs: ['y'],
    },
    { s: ints([3, -1]) },
  ),
  { ...unary('Flatten', undefined, { axis: 2 }), inputs: { x: [2, 3, 2] } },
  withInts(
    {
      op: ':Squeeze',
      label: 'Squeeze',
      inputs: { x: [2, 1, 3] },
      nodes: [node('Squeeze', ['x', 'ax'], ['y'])],
      outputs: ['y'],
    },
    { ax: ints([1]) },
  ),
  withInts(
    {
      op: ':Unsqueeze',
      label: 'Unsqueeze',
      inputs: { x: [2, 3] },
      nodes: [node('Unsqueeze', ['x', 'ax'], ['y'])],
      outputs: ['y'],
    },
    { ax: ints([0, -1]) },
  ),
  {
    op: ':Concat',
    label: 'Concat axis -1',
    inputs: { a: [2, 1], b: [2, 3], c: [2, 2] },
    nodes: [node('Concat', ['a', 'b', 'c'], ['y'], { axis: -1 })],
    outputs: ['y'],
  },
  withInts(
    {
      op: ':Split',
      label: 'Split both used',
      inputs: { x: [2, 5] },
      nodes: [node('Split', ['x', 's'], ['y0', 'y1'], { axis: 1 })],
      outputs: ['y0', 'y1'],
    },
    { s: ints([2, 3]) },
  ),
  withInts(
    {
      op: ':Split',
      label: 'Split one used',
      inputs: { x: [4, 2] },
      nodes: [node('Split', ['x', 's'], ['y0', 'y1'])],
      outputs: ['y1'],
    },
    { s: ints([1, 3]) },
  ),
  withInts(
    {
      op: ':Slice',
      label: 'Slice unit steps, static extents (the gradient is a Pad)',
      inputs: { x: [4, 5, 3] },
      nodes: [node('Slice', ['x', 'st', 'en', 'ax'], ['y'])],
      outputs: ['y'],
    },
    // Negative start, an end past the extent (PyTorch's INT64_MAX "to the end" is beyond float precision: 1e12
    // stands in), a negative axis.
    { st: ints([1, -2]), en: ints([3, 1e12]), ax: ints([0, -2]) },
  ),
  withInts(
    {
      op: ':Slice',
      label: 'Slice steps',
      inputs: { x: [4, 5] },
      nodes: [node('Slice', ['x', 'st', 'en', 'ax', 'sp'], ['y'])],
      outputs: ['y'],
    },
    { st: ints([1, 0]), en: ints([3, 5]), ax: ints([0, 1]), sp: ints([1, 2]) },
  ),
  withInts(
    {
      op: ':Slice',
      label: 'Slice negative step',
      inputs: { x: [3, 6] },
      nodes: [node('Slice', ['x', 'st', 'en', 'ax', 'sp'], ['y'])],
      outputs: ['y'],
    },
    { st: ints([-1]), en: ints([-6]), ax: ints([-1]), sp: ints([-2]) },
  ),
  withInts(
    {
      op: ':Gather',
      label: 'Gather axis 0, duplicate and negative indices',
      inputs: { x: [3, 4] },
      nodes: [node('Gather', ['x', 'i'], ['y'])],
      outputs: ['y'],
    },
    { i: ints([0, 2, 2, -1, 2, 0], [2, 3]) },
  ),
  withInts(
    {
      op: ':Gather',
      label: 'Gather axis 1, duplicates',
      inputs: { x: [2, 3, 2] },
      nodes: [node('Gather', ['x', 'i'], ['y'], { axis: 1 })],
      outputs: ['y'],
    },
    { i: ints([1, 1, -1, 0], [4]) },
  ),
  withInts(
    {
      op: ':GatherElements',
      label: 'GatherElements duplicates',
      inputs: { x: [3, 4] },
      nodes: [node('GatherElements', ['x', 'i'], ['y'], { axis: 1 })],
      outputs: ['y'],
    },
    { i: ints([0, 0, 3, 1, 1, 1, 2, 0, -1], [3, 3]) },
  ),
  withInts(
    {
      op: ':TopK',
      label: 'TopK k=2 of 5 (values only)',
      inputs: { x: [3, 5] },
      nodes: [node('TopK', ['x', 'k'], ['y', 'idx'], { axis: -1 })],
      outputs: ['y'],
    },
    { k: ints([2]) },
  ),
  withInts(
    {
      op: ':ScatterElements',
      label: 'ScatterElements into data (overwrite)',
      inputs: { data: [3, 4], upd: [3, 2] },
      nodes: [node('ScatterElements', ['data', 'i', 'upd'], ['y'], { axis: 1 })],
      outputs: ['y'],
    },
    { i: ints([1, 3, 0, 2, 2, 1], [3, 2]) },
  ),
  withInts(
    {
      op: ':ScatterElements',
      label: 'ScatterElements reduction add, duplicate indices',
      inputs: { data: [4, 2], upd: [3, 2] },
      nodes: [node('ScatterElements', ['data', 'i', 'upd'], ['y'], { axis: 0, reduction: 'add' })],
      outputs: ['y'],
    },
    { i: ints([1, 3, 1, 0, 1, 3], [3, 2]) },
  ),
  decomposed('LayerNormalization', '', { x: [2, 3, 4], s: [4], bias: [4] }),
  decomposed('LayerNormalization', '', { x: [2, 3, 4], s: [3, 4] }, { axis: 1, epsilon: { f: 1e-3 } }),
  decomposed('SimplifiedLayerNormalization', '', { x: [2, 3, 4], s: [4] }),
  decomposed('SkipSimplifiedLayerNormalization', 'com.microsoft', { x: [2, 3, 4], skip: [2, 3, 4], s: [4] }),
  decomposed('SkipLayerNormalization', 'com.microsoft', {
    x: [2, 3, 4],
    skip: [2, 3, 4],
    s: [4],
    beta: [4],
    bias: [4],
  }),
  decomposed('Gelu', 'com.microsoft', { x: [2, 3] }, {}, [-2, 2]),
  { ...decomposed('Gelu', '', { x: [2, 3] }, { approximate: 'tanh' }, [-2, 2]), opset: 20 },
  decomposed('FastGelu', 'com.microsoft', { x: [2, 3], bias: [3] }, {}, [-2, 2]),
  decomposed('QuickGelu', 'com.microsoft', { x: [2, 3] }, { alpha: { f: 1.5 } }, [-2, 2]),
  rotaryEmbedding([1, 3, 8]),
  rotaryEmbedding([1, 2, 3, 4]),
  groupQueryAttention('past'),
  groupQueryAttention('padded'),
  groupQueryAttention('packed'),
  matmulNBits(4, 'packed'),
  matmulNBits(4, 'none'),
  matmulNBits(2, 'float'),
];
