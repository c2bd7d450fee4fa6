// The model bench/train.mjs trains: a random Llama of the requested shape, in the TorchScript form (no KV cache)
// or the onnxruntime-genai builder form (KV cache inputs, fed empty by the train graph).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildLlama, buildLlamaBuilderForm } from '@mor/model-builder';

/** `{ onnx, linears }` of the model for the parsed options `o`. */
export function buildTrainModel(o) {
  const shape = {
    hidden: o.hidden,
    layers: o.layers,
    heads: o.heads,
    kvHeads: o.kvHeads,
    intermediate: o.intermediate,
    vocab: o.vocab,
    seed: o.seed,
  };
  return o.form === 'builder' ? buildLlamaBuilderForm(shape) : buildLlama({ ...shape, withoutKvCache: true });
}

/** What bench/train.mjs wrote to `dir`: the model's bytes and its linears (module, dIn, dOut, …). */
export function readTrainModel(dir) {
  return {
    onnx: readFileSync(join(dir, 'model.onnx')),
    linears: JSON.parse(readFileSync(join(dir, 'linears.json'), 'utf8')),
  };
}
