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

/** Symmetric per-tensor int8 quantization (zero point 0), as `quantize_dynamic` does for QInt8 weights. */
export function quantizeInt8(w: Float32Array): { q: Int8Array; scale: number } {
  let amax = 0;
  for (const v of w) amax = Math.max(amax, Math.abs(v));
  const scale = amax > 0 ? amax / 127 : 1;
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i]! / scale)));
  return { q, scale };
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
  const [acc] = b.op('MatMulInteger', [xq!, wq, xzp!, wzp], {}, [`${out}_quantized`], { name: node });
  const cast = { name: `${node}_output_quantized_cast` };
  const [accF] = b.op('Cast', [acc!], { to: { int: DType.FLOAT } }, [`${acc}_cast_output`], cast);
  const [sc] = b.op('Mul', [xs!, ws], {}, [`${node}_scales_mul:0`], { name: `${node}_scales_mul` });
  b.op('Mul', [accF!, sc!], {}, [out], { name: `${node}_output_scale_mul` });
  return [node, wq, out];
}
