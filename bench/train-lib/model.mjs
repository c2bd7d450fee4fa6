// The model bench/train.mjs trains: a random Llama of the requested shape, in the TorchScript form (no KV cache)
// or the onnxruntime-genai builder form (KV cache inputs, fed empty by the train graph), and in each transformers.js
// dtype of the same weights (`--dtypes`): fp32, fp16, q8, q4, q4f16.
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { buildLlama, buildLlamaBuilderForm, convertFloatType, toDtype } from '@mor/model-builder';
import { decodeModel, encodeModel } from '@mor/onnx';
import { llamaShape } from '../lib/args.mjs';

/** The dtypes `--dtypes` takes, by transformers.js' names; fp32 is every comparison's baseline. */
export const TRAIN_DTYPES = ['fp32', 'fp16', 'q8', 'q4', 'q4f16'];

/** `{ onnx, linears }` of the fp32 model for the parsed options `o`. */
export function buildTrainModel(o) {
  const shape = llamaShape(o);
  return o.form === 'builder' ? buildLlamaBuilderForm(shape) : buildLlama({ ...shape, withoutKvCache: true });
}

/**
 * The `dtype` form of the model `o` asks for, from the same weights: `{ built, transform }`, where `transform`
 * rewrites the decoded graph in place (null: `built` is the form). TorchScript form: `toDtype` of the fp32 graph
 * (fp16: every float tensor and activation float16; q8: onnxruntime's dynamic quantization as transformers.js
 * ships it; q4: MatMulNBits with float32 scales; q4f16: the fp16 graph's MatMuls as MatMulNBits). Builder form: q4
 * and q4f16 start from the builder's own q4 (symmetric MatMulNBits, GatherBlockQuantized embedding), as
 * onnxruntime-genai writes them; fp16 and q4f16 are those graphs made float16; q8 is `toDtype`'s. `fp32Built`
 * is reused where the form derives from it.
 */
export function dtypeModel(o, dtype, fp32Built) {
  if (!TRAIN_DTYPES.includes(dtype))
    throw new Error(`unknown dtype ${dtype} (known: ${TRAIN_DTYPES.join(', ')})`);
  if (dtype === 'fp32') return { built: fp32Built, transform: null };
  if (o.form === 'builder') {
    const q4 = dtype === 'q4' || dtype === 'q4f16';
    const built = q4 ? buildLlamaBuilderForm({ ...llamaShape(o), quantize: 'q4' }) : fp32Built;
    if (dtype === 'q4') return { built, transform: null };
    return {
      built,
      transform: dtype === 'q8' ? (m) => toDtype(m, 'q8') : (m) => convertFloatType(m, 'float16'),
    };
  }
  return { built: fp32Built, transform: (m) => toDtype(m, dtype) };
}

/**
 * Writes `built` to `dir` as a model directory holds it: `model.onnx` with its weights (≥ 1 MiB) in
 * `model.onnx_data`, as exports of real-sized models come, and `linears.json`. `transform`, when given, rewrites
 * the decoded graph first (a dtype form, {@link dtypeModel}).
 */
export async function writeTrainModel(dir, built, transform = null) {
  mkdirSync(dir, { recursive: true });
  const model = await decodeModel(built.onnx);
  transform?.(model);
  const encoded = encodeModel(model, { externalDataThreshold: 1 << 20 });
  writeFileSync(join(dir, 'model.onnx'), encoded.model);
  for (const file of encoded.externalData) {
    const fd = openSync(join(dir, file.location), 'w');
    try {
      for (const chunk of file.chunks) writeSync(fd, chunk);
    } finally {
      closeSync(fd);
    }
  }
  writeFileSync(join(dir, 'linears.json'), JSON.stringify(built.linears));
}

/** What {@link writeTrainModel} wrote: the graph's bytes (weights external, in `dir`) and the linears. */
export function readTrainModel(dir) {
  return {
    onnx: readFileSync(join(dir, 'model.onnx')),
    linears: JSON.parse(readFileSync(join(dir, 'linears.json'), 'utf8')),
  };
}
