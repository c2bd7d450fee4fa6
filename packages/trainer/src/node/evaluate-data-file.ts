import { AutoTokenizer } from '@huggingface/transformers';
import { checkOptions, type OptionNames } from '@mor/transformers';
import {
  loadModel,
  taskFromConfig,
  readModelConfig,
  resolveModelSource,
  useModelSource,
} from '@mor/transformers/node';
import type { AdapterInput } from '@mor/transformers';
import type { TrainTask } from '../data/encode-rows.js';
import type { EvalMetrics } from '../eval/eval-metrics.js';
import { evaluateWithModel } from '../eval/evaluate-with-model.js';
import { readDataFile } from './read-data-file.js';

/** Options of {@link evaluateDataFile} (docs/cli.md `mor eval`). */
export interface EvaluateDataFileOptions {
  /** Local transformers.js model directory or Hub id. */
  model: string;
  /** JSONL data (the rows `mor train` reads). */
  data: string;
  /** Adapter to score with (directory or `Adapter`); without one the base model is scored. */
  adapter?: AdapterInput;
  /** Default from the model's config. */
  task?: TrainTask;
  maxLength?: number;
  /** Rows per forward pass (default 8). */
  batchSize?: number;
  device?: string;
  dtype?: string;
}

function intOrNull(v: unknown): number | null {
  if (Array.isArray(v)) v = v[0];
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;
}

/**
 * Loss (token-weighted mean cross-entropy for causal-lm; row mean and accuracy for seq-cls) of a model, with an
 * adapter if given, on a data file, through transformers.js inference (so KV-cache exports, fp16 files and every
 * device work). Rows are checked first; a bad one fails with `FILE:LINE: problem` before the model loads.
 */
const EVALUATE_DATA_FILE_OPTIONS = {
  model: true,
  data: true,
  adapter: true,
  task: true,
  maxLength: true,
  batchSize: true,
  device: true,
  dtype: true,
} satisfies OptionNames<EvaluateDataFileOptions>;

export async function evaluateDataFile(
  o: EvaluateDataFileOptions,
): Promise<EvalMetrics & { task: TrainTask }> {
  checkOptions('evaluateDataFile', o, EVALUATE_DATA_FILE_OPTIONS);
  // Data first (tokenizer and config are cheap), so a bad row fails before the model is loaded.
  const source = await resolveModelSource(o.model);
  const config = await readModelConfig(source);
  const task = o.task ?? taskFromConfig(config) ?? 'causal-lm';
  const tokenizer = await AutoTokenizer.from_pretrained(useModelSource(source));
  const id2label = config['id2label'] as Record<string, string> | undefined;
  const data = await readDataFile(o.data, {
    task,
    tokenizer,
    label2id: (config['label2id'] ?? {}) as Record<string, number>,
    ...(id2label ? { numLabels: Object.keys(id2label).length } : {}),
    ...(o.maxLength !== undefined ? { maxLength: o.maxLength } : {}),
  });
  const loaded = await loadModel({
    model: o.model,
    task,
    tokenizer: false,
    ...(o.adapter !== undefined ? { adapter: o.adapter } : {}),
    ...(o.device !== undefined ? { device: o.device } : {}),
    ...(o.dtype !== undefined ? { dtype: o.dtype } : {}),
  });
  try {
    const padTokenId =
      intOrNull(config['pad_token_id']) ??
      intOrNull(tokenizer.pad_token_id) ??
      intOrNull(config['eos_token_id']) ??
      0;
    const metrics = await evaluateWithModel(loaded.model, {
      examples: data.examples,
      task,
      padTokenId,
      batchSize: o.batchSize ?? 8,
    });
    return { ...metrics, task };
  } finally {
    await loaded.model.dispose();
  }
}
