// The model bench/train.mjs trains: a random Llama of the requested shape, in the TorchScript form (no KV cache)
// or the onnxruntime-genai builder form (KV cache inputs, fed empty by the train graph).
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { buildLlama, buildLlamaBuilderForm } from '@mor/model-builder';
import { decodeModel, encodeModel } from '@mor/onnx';
import { llamaShape } from '../lib/args.mjs';

/** `{ onnx, linears }` of the model for the parsed options `o`. */
export function buildTrainModel(o) {
  const shape = llamaShape(o);
  return o.form === 'builder' ? buildLlamaBuilderForm(shape) : buildLlama({ ...shape, withoutKvCache: true });
}

/**
 * Writes `built` to `dir` as a model directory holds it: `model.onnx` with its weights (≥ 1 MiB) in
 * `model.onnx_data`, as exports of real-sized models come, and `linears.json`.
 */
export async function writeTrainModel(dir, built) {
  const encoded = encodeModel(await decodeModel(built.onnx), { externalDataThreshold: 1 << 20 });
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
