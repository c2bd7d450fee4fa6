/**
 * Symmetric 4-bit block quantization as onnxruntime-genai's model builder stores it by default (`is_symmetric`
 * true, block 32, MLAS `MlasQuantizeBlockwise`): per block the value of largest magnitude `v` (sign kept) gives
 * `scale = v / −8`, codes are `clamp(round(x / scale) + 8, 0, 15)` and there are no zero points (both
 * `MatMulNBits` and uint8 `GatherBlockQuantized` then use 8). Rows are quantized along their length: a
 * `MatMulNBits` weight is stored one row per output feature, an embedding table one row per token, so a tied
 * lm_head's `[vocab, nBlocks, 16]` data viewed as `[vocab, hidden / 2]` is the embedding's quantized table.
 */

/** Block size (the builder's default `block_size`). */
export const Q4_BLOCK = 32;

/** A `[rows, cols]` matrix in packed symmetric 4-bit form. */
export interface Q4Rows {
  /** `[rows, nBlocks, Q4_BLOCK / 2]`: two codes per byte, the even column in the low nibble. */
  packed: Uint8Array;
  /** `[rows, nBlocks]`. */
  scales: Float32Array;
  nBlocks: number;
}

/** Quantize `rows × cols` values read through `at(r, c)`; columns past `cols` pad with code 8 (value 0). */
export function quantizeRowsQ4(at: (r: number, c: number) => number, rows: number, cols: number): Q4Rows {
  const nBlocks = Math.ceil(cols / Q4_BLOCK);
  const blob = Q4_BLOCK / 2;
  const packed = new Uint8Array(rows * nBlocks * blob);
  const scales = new Float32Array(rows * nBlocks);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nBlocks; b++) {
      const c0 = b * Q4_BLOCK;
      const c1 = Math.min(cols, c0 + Q4_BLOCK);
      let vmax = 0;
      for (let c = c0; c < c1; c++) {
        const v = at(r, c);
        if (Math.abs(v) > Math.abs(vmax)) vmax = v;
      }
      const scale = Math.fround(vmax / -8);
      scales[r * nBlocks + b] = scale;
      const inv = scale === 0 ? 0 : 1 / scale;
      for (let c = c0; c < c0 + Q4_BLOCK; c++) {
        const q = c < c1 ? Math.min(15, Math.max(0, Math.round(at(r, c) * inv) + 8)) : 8;
        packed[(r * nBlocks + b) * blob + ((c - c0) >> 1)]! |= q << (((c - c0) & 1) * 4);
      }
    }
  }
  return { packed, scales, nBlocks };
}

/** The float value of element `(r, c)` of quantized rows: `(code − 8) · scale`. */
export function dequantizedQ4(q: Q4Rows, r: number, c: number): number {
  const b = Math.floor(c / Q4_BLOCK);
  const byte = q.packed[(r * q.nBlocks + b) * (Q4_BLOCK / 2) + ((c % Q4_BLOCK) >> 1)]!;
  const code = (byte >> ((c & 1) * 4)) & 15;
  return (code - 8) * q.scales[r * q.nBlocks + b]!;
}
