import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { AutoTokenizer, type PreTrainedTokenizer } from '@huggingface/transformers';
import { DataLocation, decodeModel, externalDataInfo, modelTensors, type ModelProto } from '@mor/onnx';
import { readModelFile } from '@mor/onnx/node';
import {
  readModelConfig,
  resolveModelSource,
  useModelSource,
  taskFromConfig,
  DTYPE_SUFFIXES,
} from '@mor/transformers/node';
import { modelDirFromHub } from './model-dir-from-hub.js';
import { encodeForSession, type SessionModel } from '@mor/engine';
import type { TrainTask } from '../data/encode-rows.js';
import { TrainConfigError } from '../errors.js';

/** A model directory opened for training: its graph, tokenizer, config and what the data needs from them. */
export interface TrainingModel {
  /** The model directory (absolute). */
  dir: string;
  /** Directory name, for `base_model_name_or_path` when the config has none. */
  name: string;
  config: Record<string, unknown>;
  tokenizer: PreTrainedTokenizer;
  task: TrainTask;
  /**
   * The training graph (`onnx/model.onnx`, or the file of the chosen dtype), decoded: external data inlined, or,
   * with `externalDataDir`, left as references (dims without values).
   */
  graph: ModelProto;
  /**
   * The graph for the train session: weights ≥ 1 MiB as external data viewing `graph`'s bytes; with
   * `externalDataDir`, the file's own bytes (the weights stay in their files).
   */
  onnx: SessionModel;
  /**
   * Set when the weights were left in the graph file's external data files (`mapWeights`): their folder, which the
   * train session links and onnxruntime maps (TrainSessionOptions.externalDataDir), so they are held once.
   */
  externalDataDir?: string;
  padTokenId: number;
  label2id: Record<string, number>;
  numLabels: number | undefined;
}

function intOrNull(v: unknown): number | null {
  if (Array.isArray(v)) v = v[0];
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;
}

/** The transformers.js dtypes whose `onnx/model{suffix}.onnx` is among `files`. */
export function dtypesOf(files: readonly string[]): string[] {
  return Object.entries(DTYPE_SUFFIXES)
    .filter(([, suffix]) => files.includes(`model${suffix}.onnx`))
    .map(([dtype]) => dtype);
}

/** The file suffix of a transformers.js dtype; an unknown dtype is refused in one line. */
function trainableSuffix(dtype: string): string {
  const suffix = DTYPE_SUFFIXES[dtype];
  if (suffix === undefined)
    throw new TrainConfigError(
      `unknown dtype "${dtype}": expected one of ${Object.keys(DTYPE_SUFFIXES).join(', ')}`,
    );
  return suffix;
}

/**
 * The training graph of `dir` for transformers.js dtype `chosen`: `onnx/model.onnx`, `model_q4.onnx`, … One the
 * directory lacks is refused in one line naming the dtypes it has.
 */
async function trainingGraphFile(dir: string, chosen: string): Promise<string> {
  const suffix = trainableSuffix(chosen);
  const file = join(dir, 'onnx', `model${suffix}.onnx`);
  if (await stat(file).catch(() => null)) return file;
  const files = await readdir(join(dir, 'onnx')).catch(() => [] as string[]);
  const has = dtypesOf(files);
  throw new TrainConfigError(
    `${file} is missing: no ${chosen} graph to train` +
      (has.length ? ` (this model has dtypes ${has.join(', ')}; pick one with --dtype)` : ''),
  );
}

/** The external data files `model` references, checked to lie inside the model's folder and to exist there. */
async function externalFiles(model: ModelProto, file: string): Promise<string[]> {
  const locations = new Set<string>();
  for (const t of modelTensors(model))
    if (t.dataLocation === DataLocation.EXTERNAL) {
      const location = externalDataInfo(t)['location'];
      if (location === undefined)
        throw new TrainConfigError(`${file}: external tensor "${t.name}" has no location`);
      locations.add(location);
    }
  for (const location of locations) {
    const rel = normalize(location);
    if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`))
      throw new TrainConfigError(
        `${file}: external data location ${JSON.stringify(location)} leaves the model folder`,
      );
    if (!(await stat(join(dirname(file), rel)).catch(() => null)))
      throw new TrainConfigError(`${file}: its external data file ${location} is missing`);
  }
  return [...locations];
}

/** Reads the graph file; with `mapWeights`, weights in external data files stay there (see `externalDataDir`). */
async function readTrainingGraph(
  file: string,
  mapWeights: boolean,
): Promise<Pick<TrainingModel, 'graph' | 'onnx' | 'externalDataDir'>> {
  try {
    if (mapWeights) {
      const bytes = await readFile(file);
      const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const graph = await decodeModel(view);
      if ((await externalFiles(graph, file)).length > 0)
        return { graph, onnx: { bytes: view, externalData: [] }, externalDataDir: dirname(file) };
      return { graph, onnx: encodeForSession(graph) };
    }
    const graph = await readModelFile(file);
    return { graph, onnx: encodeForSession(graph) };
  } catch (e) {
    if (e instanceof TrainConfigError) throw e;
    throw new TrainConfigError(`${file}: cannot read the training graph (${(e as Error).message})`);
  }
}

/**
 * Opens a transformers.js model for training: a local directory, or a Hub id whose files are pulled first
 * (node/model-dir-from-hub.ts). The training graph is the file transformers.js loads for `dtype`: `onnx/model.onnx`
 * for fp32 (default; a KV-cache export works too, its past inputs are fed empty by the engine), `model_q4.onnx`
 * for q4 (QLoRA: the 4-bit base stays frozen and quantized), `model_quantized.onnx` for q8 (int8 base, activations
 * quantized at run time, straight-through gradient), `model_fp16.onnx` / `model_q4f16.onnx` for fp16 / q4f16 (a
 * float16 base: its forward and backward in float16, the loss and the adapter in float32, dynamic loss scaling:
 * @mor/engine grad-scaler.ts). The task comes from `task`, else the config's
 * `architectures`, else causal-lm. With `mapWeights`, weights in external data files (`model.onnx_data`, as real
 * models come) are not read: see `externalDataDir` (what needs their values, `full` training, must not ask).
 */
export async function openTrainingModel(
  model: string,
  task?: TrainTask,
  dtype?: string,
  { mapWeights = false }: { mapWeights?: boolean } = {},
): Promise<TrainingModel> {
  trainableSuffix(dtype ?? 'fp32'); // before any download
  const given = await resolveModelSource(model);
  // A Hub id: config, tokenizer and the graph of the dtype are pulled into the cache and trained from there.
  const source =
    given.kind === 'local' ? given : await resolveModelSource(await modelDirFromHub(given.id, dtype));
  if (source.kind !== 'local') throw new TrainConfigError(`"${model}" did not resolve to a model directory`);
  const config = await readModelConfig(source);
  const file = await trainingGraphFile(source.dir, dtype ?? 'fp32');
  const read = await readTrainingGraph(file, mapWeights);
  const tokenizer = await AutoTokenizer.from_pretrained(useModelSource(source));
  const resolvedTask = task ?? taskFromConfig(config) ?? 'causal-lm';
  const padTokenId =
    intOrNull(config['pad_token_id']) ??
    intOrNull(tokenizer.pad_token_id) ??
    intOrNull(config['eos_token_id']) ??
    0;
  const label2id = (config['label2id'] ?? {}) as Record<string, number>;
  const id2label = config['id2label'] as Record<string, string> | undefined;
  const numLabels = id2label ? Object.keys(id2label).length : (intOrNull(config['num_labels']) ?? undefined);
  const name =
    typeof config['_name_or_path'] === 'string' && config['_name_or_path']
      ? config['_name_or_path']
      : given.kind === 'hub'
        ? given.id.split('@')[0]!
        : basename(source.dir);
  return {
    dir: source.dir,
    name,
    config,
    tokenizer,
    task: resolvedTask,
    ...read,
    padTokenId,
    label2id,
    numLabels,
  };
}
