import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AutoTokenizer, type PreTrainedTokenizer } from '@huggingface/transformers';
import type { ModelProto } from '@mor/onnx';
import { readModelFile } from '@mor/onnx/node';
import { readModelConfig, resolveModelSource, useModelSource } from '../../node/model-source.js';
import { taskFromConfig } from '../../node/load-model.js';
import { modelDirFromHub } from '../../node/model-dir-from-hub.js';
import { encodeForSession, type SessionModel } from '../../session-model.js';
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
  /** `onnx/model.onnx`, decoded (external data inlined). */
  graph: ModelProto;
  /** The same graph encoded for the train session: weights ≥ 1 MiB as external data viewing `graph`'s bytes. */
  onnx: SessionModel;
  padTokenId: number;
  label2id: Record<string, number>;
  numLabels: number | undefined;
}

function intOrNull(v: unknown): number | null {
  if (Array.isArray(v)) v = v[0];
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;
}

/**
 * Opens a transformers.js model for training: a local directory, or a Hub id whose files are pulled first
 * (node/model-dir-from-hub.ts). The training graph is `onnx/model.onnx` (the
 * fp32 file; a KV-cache export works too, its past inputs are fed empty by the engine). The task comes from
 * `options.task`, else the config's `architectures`, else causal-lm.
 */
export async function openTrainingModel(model: string, task?: TrainTask): Promise<TrainingModel> {
  const given = await resolveModelSource(model);
  // A Hub id: config, tokenizer and the fp32 graph are pulled into the cache and trained from there.
  const source = given.kind === 'local' ? given : await resolveModelSource(await modelDirFromHub(given.id));
  if (source.kind !== 'local') throw new TrainConfigError(`"${model}" did not resolve to a model directory`);
  const config = await readModelConfig(source);
  const file = join(source.dir, 'onnx', 'model.onnx');
  if (!(await stat(file).catch(() => null))) {
    // Quantized or fp16 exports alone cannot be trained through: say what is there instead of ENOENT.
    const others = (await readdir(join(source.dir, 'onnx')).catch(() => [] as string[])).filter((f) =>
      f.endsWith('.onnx'),
    );
    throw new TrainConfigError(
      `${file} is missing: training needs the fp32 graph` +
        (others.length
          ? ` (this model has only ${others.sort().join(', ')}; quantized and fp16 exports cannot be trained through)`
          : ''),
    );
  }
  let graph: ModelProto;
  try {
    graph = await readModelFile(file);
  } catch (e) {
    throw new TrainConfigError(`${file}: cannot read the training graph (${(e as Error).message})`);
  }
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
    graph,
    onnx: encodeForSession(graph),
    padTokenId,
    label2id,
    numLabels,
  };
}
