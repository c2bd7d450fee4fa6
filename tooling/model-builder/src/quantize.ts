import { DType, type ModelGraph } from './model-graph.js';

/** Block size of the 4-bit form (onnxruntime's default for `MatMul4BitsQuantizer`). */
export const NBITS_BLOCK_SIZE = 32;

/** Packed 4-bit weight of a `[K, N]` matrix, as `MatMulNBits` stores it (one row per output feature). */
export interface NBitsWeight {
  /** `[N, nBlocks, blockSize / 2]`: element k of a block in the low nibble when k is even. */
  packed: Uint8Array;
  /** `[N * nBlocks]`. */
  scales: Float32Array;
  /** `[N * ceil(nBlocks / 2)]`, two 4-bit zero points per byte, low nibble first. */
  zeroPoints: Uint8Array;
  nBlocks: number;
}

/** Asymmetric 4-bit block quantization of `w` (`[k, n]` row-major, i.e. the transposed weight of a MatMul). */
export function quantizeNBits(
  w: Float32Array,
  k: number,
  n: number,
  blockSize = NBITS_BLOCK_SIZE,
): NBitsWeight {
  const nBlocks = Math.ceil(k / blockSize);
  const blob = blockSize / 2;
  const packed = new Uint8Array(n * nBlocks * blob);
  const scales = new Float32Array(n * nBlocks);
  const zpBytes = Math.ceil(nBlocks / 2);
  const zeroPoints = new Uint8Array(n * zpBytes);
  for (let col = 0; col < n; col++) {
    for (let b = 0; b < nBlocks; b++) {
      const k0 = b * blockSize;
      const k1 = Math.min(k, k0 + blockSize);
      // The range always contains 0 so that zero weights (and the padding past K) stay exact.
      let lo = 0;
      let hi = 0;
      for (let r = k0; r < k1; r++) {
        const v = w[r * n + col]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const scale = hi > lo ? (hi - lo) / 15 : 1;
      const zp = Math.min(15, Math.max(0, Math.round(-lo / scale)));
      scales[col * nBlocks + b] = scale;
      zeroPoints[col * zpBytes + (b >> 1)]! |= zp << ((b & 1) * 4);
      for (let r = k0; r < k0 + blockSize; r++) {
        const v = r < k1 ? w[r * n + col]! : 0;
        const q = r < k1 ? Math.min(15, Math.max(0, Math.round(v / scale) + zp)) : zp;
        const i = (col * nBlocks + b) * blob + ((r - k0) >> 1);
        packed[i]! |= q << (((r - k0) & 1) * 4);
      }
    }
  }
  return { packed, scales, zeroPoints, nBlocks };
}

/** The float weight `[k, n]` that a `MatMulNBits` node with this data multiplies by. */
export function dequantizeNBits(
  q: NBitsWeight,
  k: number,
  n: number,
  blockSize = NBITS_BLOCK_SIZE,
): Float32Array {
  const out = new Float32Array(k * n);
  const blob = blockSize / 2;
  const zpBytes = Math.ceil(q.nBlocks / 2);
  for (let col = 0; col < n; col++) {
    for (let r = 0; r < k; r++) {
      const b = Math.floor(r / blockSize);
      const byte = q.packed[(col * q.nBlocks + b) * blob + ((r % blockSize) >> 1)]!;
      const v = (byte >> ((r % 2) * 4)) & 15;
      const zp = (q.zeroPoints[col * zpBytes + (b >> 1)]! >> ((b & 1) * 4)) & 15;
      out[r * n + col] = (v - zp) * q.scales[col * q.nBlocks + b]!;
    }
  }
  return out;
}

/**
 * Emit `x @ w` as com.microsoft `MatMulNBits` (what onnxruntime's 4-bit quantizer turns a MatMul into).
 * Returns `[nodeName, weightName, outputName]`.
 */
export function emitMatMulNBits(
  g: ModelGraph,
  scope: string,
  x: string,
  w: Float32Array,
  k: number,
  n: number,
  baseWeightName: string,
  outputName = `${scope}/MatMul_output_0`,
): [string, string, string] {
  g.useDomain('com.microsoft', 1);
  const q = quantizeNBits(w, k, n);
  const wName = g.initializer(
    `${baseWeightName}_Q4`,
    [n, q.nBlocks, NBITS_BLOCK_SIZE / 2],
    q.packed,
    DType.UINT8,
  );
  const sName = g.initializer(`${baseWeightName}_scales`, [n * q.nBlocks], q.scales);
  const zName = g.initializer(
    `${baseWeightName}_zero_points`,
    [q.zeroPoints.length],
    q.zeroPoints,
    DType.UINT8,
  );
  const node = `${scope}/MatMul_Q4`;
  const attrs = { K: { int: k }, N: { int: n }, bits: { int: 4 }, block_size: { int: NBITS_BLOCK_SIZE } };
  g.at(scope).op('MatMulNBits', [x, wName, sName, zName], attrs, [outputName], {
    domain: 'com.microsoft',
    name: node,
  });
  return [node, wName, outputName];
}

/** A `[K, N]` weight as onnxruntime's dynamic quantization stores it for MatMulInteger. */
export interface DynamicQuantWeight {
  /** `[K, N]`, int8 or uint8. */
  q: Int8Array | Uint8Array;
  /** One scale for the tensor, or one per output column (`[N]`). */
  scales: Float32Array;
  /** Same length as `scales`, in the weight's type. */
  zeroPoints: Int8Array | Uint8Array;
}

/**
 * onnxruntime's `quantize_dynamic` weight quantization (onnx_quantizer.py / quant_utils.py), per tensor or per
 * output column: `int8` (QInt8, what transformers.js' q8 uses unless the graph has GroupQueryAttention or
 * MultiHeadAttention) symmetric, `scale = max|w|/127`, zero point 0, values in [−127, 127]; `uint8` (QUInt8)
 * asymmetric over the range widened to contain 0, `scale = (max − min)/255`, `zp = round(−min/scale)`.
 */
export function quantizeDynamicWeight(
  w: Float32Array,
  k: number,
  n: number,
  type: 'int8' | 'uint8' = 'int8',
  perChannel = false,
): DynamicQuantWeight {
  const groups = perChannel ? n : 1;
  const scales = new Float32Array(groups);
  const zeroPoints = type === 'int8' ? new Int8Array(groups) : new Uint8Array(groups);
  const q = type === 'int8' ? new Int8Array(k * n) : new Uint8Array(k * n);
  for (let g = 0; g < groups; g++) {
    const cols = perChannel ? [g] : Array.from({ length: n }, (_, j) => j);
    let [lo, hi] = [0, 0];
    for (let r = 0; r < k; r++)
      for (const j of cols) {
        const v = w[r * n + j]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    const amax = Math.max(-lo, hi);
    // float32 scale, quotients and numpy's round-half-to-even: onnxruntime's compute_scale_zp / quantize_nparray.
    const scale = Math.fround(type === 'int8' ? (amax > 0 ? amax / 127 : 1) : hi > lo ? (hi - lo) / 255 : 1);
    const zp = type === 'int8' ? 0 : Math.min(255, Math.max(0, roundHalfEven(Math.fround(-lo / scale))));
    const [qmin, qmax] = type === 'int8' ? [-127, 127] : [0, 255];
    scales[g] = scale;
    zeroPoints[g] = zp;
    for (let r = 0; r < k; r++)
      for (const j of cols)
        q[r * n + j] = Math.max(qmin, Math.min(qmax, roundHalfEven(Math.fround(w[r * n + j]! / scale)) + zp));
  }
  return { q, scales, zeroPoints };
}

/** `Math.round` with ties to the even neighbour (numpy's `round`). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Symmetric per-tensor int8 quantization (zero point 0), as `quantize_dynamic` does for QInt8 weights. */
export function quantizeInt8(w: Float32Array): { q: Int8Array; scale: number } {
  const d = quantizeDynamicWeight(w, w.length, 1);
  return { q: d.q as Int8Array, scale: d.scales[0]! };
}

/**
 * Emit `x @ w` in onnxruntime's dynamic-quantization form: DynamicQuantizeLinear(x) (one per activation tensor),
 * MatMulInteger with the int8 weight, Cast to float, and a Mul by the product of the two scales.
 * Returns `[nodeName, weightName, outputName]`.
 */
export function emitDynamicInt8MatMul(
  g: ModelGraph,
  scope: string,
  x: string,
  w: Float32Array,
  k: number,
  n: number,
  baseWeightName: string,
  outputName = `${scope}/MatMul_output_0`,
): [string, string, string] {
  const b = g.at('');
  const [xq, xs, xzp] = g.once(`dql:${x}`, () =>
    b.op('DynamicQuantizeLinear', [x], {}, [`${x}_quantized`, `${x}_scale`, `${x}_zero_point`], {
      name: `${x}_QuantizeLinear`,
    }),
  );
  const { q, scale } = quantizeInt8(w);
  const wq = g.initializer(`${baseWeightName}_quantized`, [k, n], q);
  const ws = g.initializer(`${baseWeightName}_scale`, [], Float32Array.of(scale));
  const wzp = g.initializer(`${baseWeightName}_zero_point`, [], Int8Array.of(0));
  const out = outputName;
  const node = `${scope}/MatMul_quant`;
  // onnxruntime's names (quantization/operators/matmul.py), as quantizeMatMulsDynamic writes them.
  const [acc] = b.op('MatMulInteger', [xq!, wq, xzp!, wzp], {}, [`${out}_output_quantized`], { name: node });
  const cast = { name: `${acc}_cast` };
  const [accF] = b.op('Cast', [acc!], { to: { int: DType.FLOAT } }, [`${acc}_cast_output`], cast);
  const [sc] = b.op('Mul', [xs!, ws], {}, [`${node}_scales_mul:0`], { name: `${node}_scales_mul` });
  b.op('Mul', [accF!, sc!], {}, [out], { name: `${node}_output_scale_mul` });
  return [node, wq, out];
}
