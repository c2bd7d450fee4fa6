import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GraphIndex, setTensorFloats, type ModelProto } from '@mor/onnx';
import { writeFilesAtomic } from '@mor/format/node';
import { writeModelFiles } from '@mor/transformers/node';
import { TrainConfigError } from '../errors.js';

/** Weight files beside the config (PyTorch, ONNX, …) would still hold the old weights: not copied. */
const WEIGHT_FILE = /\.(safetensors|bin|pt|pth|ckpt|h5|msgpack|gguf|onnx|onnx_data(_\d+)?)$|\.index\.json$/;

/** Trained base weights by initializer name, as `TrainSession.getParameters()` returns them. */
export type TrainedParams = ReadonlyMap<string, { dims: readonly number[]; data: Float32Array }>;

/** Writes trained values into the graph's initializers (same names, same element type); mutates `graph`. */
export function setInitializers(graph: ModelProto, params: TrainedParams): void {
  const index = new GraphIndex(graph.graph!);
  for (const [name, t] of params) {
    const init = index.initializers.get(name);
    if (!init)
      throw new TrainConfigError(`trained weight "${name}" is not an initializer of the model graph`);
    setTensorFloats(init, t.data);
  }
}

/**
 * `--method full` output: a complete transformers.js model directory — the model's top-level files (config,
 * tokenizer, generation config) copied, and `onnx/model.onnx` with the trained weights. Other ONNX variants
 * (fp16, quantized) are not copied: they would still hold the old weights.
 */
export async function writeFullModelDir(
  modelDir: string,
  out: string,
  graph: ModelProto,
  params: TrainedParams,
): Promise<void> {
  setInitializers(graph, params);
  await mkdir(join(out, 'onnx'), { recursive: true });
  const sideFiles = (await readdir(modelDir, { withFileTypes: true })).filter(
    (entry) => entry.isFile() && !WEIGHT_FILE.test(entry.name),
  );
  // Config and tokenizer files are small: read, then written through the atomic writer like everything else.
  await writeFilesAtomic(
    await Promise.all(
      sideFiles.map(async (e) => ({ path: join(out, e.name), data: await readFile(join(modelDir, e.name)) })),
    ),
  );
  // External data above 1 MiB keeps a large model under protobuf's 2 GiB limit, as transformers.js exports do.
  await writeModelFiles(join(out, 'onnx', 'model.onnx'), graph, { externalDataThreshold: 1 << 20 });
}
