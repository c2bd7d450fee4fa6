import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeModel, encodeModelBytes, type ModelProto } from '@mor/onnx';
import { convertFloatType } from './float-type.js';
import { ModelSpecError } from './model-graph.js';
import { quantizeMatMulsDynamic, quantizeMatMulsNBits } from './quantize-model.js';
import { writeAtomic } from './write-model-dir.js';

/** The graph forms made from an fp32 `onnx/model.onnx`, by transformers.js dtype, and the file each is. */
export const DERIVED_DTYPES = {
  fp16: 'model_fp16.onnx',
  q4: 'model_q4.onnx',
  q4f16: 'model_q4f16.onnx',
  q8: 'model_quantized.onnx',
} as const;
export type DerivedDtype = keyof typeof DERIVED_DTYPES;

/**
 * Rewrites an fp32 graph, in place, into the form transformers.js loads for `dtype`: `fp16` every float tensor
 * and activation float16 ({@link convertFloatType}); `q4` every constant-weight MatMul a 4-bit MatMulNBits with
 * float32 scales; `q4f16` the fp16 graph's MatMuls quantized the same way, so scales and activations are float16;
 * `q8` onnxruntime's dynamic quantization as transformers.js writes it ({@link quantizeMatMulsDynamic}: int8
 * weights, uint8 for builder graphs). Returns a one-line summary.
 */
export function toDtype(model: ModelProto, dtype: DerivedDtype): string {
  if (dtype === 'q8') {
    const q = quantizeMatMulsDynamic(model);
    if (q.quantized.length === 0)
      throw new ModelSpecError('no MatMul with a constant 2-D float weight to quantize', { dtype });
    const g = model.graph!;
    const type = g.initializer.find((t) => t.name.endsWith('_quantized'))!.dataType;
    const count = (op: string) => g.node.filter((n) => n.opType === op).length;
    return (
      `${count('MatMulInteger')} MatMulInteger, ${count('DequantizeLinear')} quantized embedding tables ` +
      `(${q.elements} weights, ${type === 3 ? 'int8' : 'uint8'}; activations quantized at run time)`
    );
  }
  const parts: string[] = [];
  if (dtype !== 'q4') {
    const r = convertFloatType(model, 'float16');
    parts.push(
      `${r.initializers} initializers, ${r.constants} constants, ${r.casts} casts, ${r.io} inputs/outputs float16`,
    );
  }
  if (dtype !== 'fp16') {
    const q = quantizeMatMulsNBits(model);
    if (q.quantized.length === 0)
      throw new ModelSpecError('no MatMul with a constant 2-D float weight to quantize', { dtype });
    parts.push(`${q.quantized.length} MatMulNBits (${q.elements} weights at 4 bits)`);
  }
  return parts.join('; ');
}

/**
 * Writes `dir/onnx/<file of dtype>` from `dir/onnx/model.onnx` (atomically). Deterministic: the same fp32 file
 * gives the same bytes. Returns the path and a summary line.
 */
export async function writeDtypeFile(
  dir: string,
  dtype: DerivedDtype,
): Promise<{ file: string; bytes: number; summary: string }> {
  if (!(dtype in DERIVED_DTYPES))
    throw new ModelSpecError(
      `unknown dtype "${dtype}": expected one of ${Object.keys(DERIVED_DTYPES).join(', ')}`,
      { dtype },
    );
  const src = join(dir, 'onnx', 'model.onnx');
  const model = await decodeModel(await readFile(src));
  let summary: string;
  try {
    summary = toDtype(model, dtype);
  } catch (e) {
    throw new ModelSpecError(`${src}: ${(e as Error).message}`, { file: src, dtype });
  }
  const file = join(dir, 'onnx', DERIVED_DTYPES[dtype]);
  const bytes = encodeModelBytes(model);
  await writeAtomic(file, bytes);
  return { file, bytes: bytes.length, summary };
}
