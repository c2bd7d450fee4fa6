import { jsonPreview } from '@mor/core';
import { AdapterFormatError } from '../errors.js';
import { isRecord, parseJsonText } from '../adapter/json-text.js';

/** File name of the training summary inside an adapter directory (written by the trainer, optional). */
export const TRAINING_SUMMARY_FILE = 'training_summary.json';

/**
 * `training_summary.json`: what the trainer records next to the adapter, shown on the model card. Every part
 * is optional; keys this reader does not know are kept in the file (it is uploaded as written).
 *
 * ```json
 * {
 *   "data":     { "file": "train.jsonl", "rows": 1200, "tokens": 153600, "eval_file": "eval.jsonl", "eval_rows": 100 },
 *   "training": { "method": "mor", "optimizer": "adamw", "lr": 0.0002, "steps": 300, "epochs": 2, "batch_size": 8 },
 *   "metrics":  { "eval_loss_before": 3.91, "eval_loss_after": 2.47, "train_loss_final": 2.31, "eval_accuracy": 0.82 }
 * }
 * ```
 * - `data.file` / `data.eval_file`: the data files' names (not paths: a card should not leak the trainer's disk);
 *   `rows`, `tokens`, `eval_rows`: non-negative integers (tokens counted after truncation, all rows, one epoch).
 * - `training`: settings worth showing, each a string, number or boolean.
 * - `metrics`: finite numbers by name; `eval_loss_before` / `eval_loss_after` are the loss on the eval data
 *   before and after training (the card shows the change).
 */
export interface TrainingSummary {
  data?: {
    file?: string;
    rows?: number;
    tokens?: number;
    eval_file?: string;
    eval_rows?: number;
  };
  training?: Record<string, string | number | boolean>;
  metrics?: { eval_loss_before?: number; eval_loss_after?: number } & Record<string, number>;
}

const COUNT_KEYS = ['rows', 'tokens', 'eval_rows'] as const;
const NAME_KEYS = ['file', 'eval_file'] as const;

/**
 * Reads and checks `training_summary.json` (schema: {@link TrainingSummary}).
 *
 * @throws {AdapterFormatError} naming `fileName` and the key for bad JSON or a value of the wrong type.
 */
export function parseTrainingSummary(text: string, fileName = TRAINING_SUMMARY_FILE): TrainingSummary {
  const raw = parseJsonText(text, fileName);
  const fail = (detail: string): never => {
    throw new AdapterFormatError(detail, { fileName });
  };
  if (!isRecord(raw)) return fail('not a JSON object');
  const summary: TrainingSummary = {};
  const data = raw['data'];
  if (data !== undefined) {
    if (!isRecord(data)) return fail('data: expected an object {file, rows, tokens}');
    summary.data = {};
    for (const key of NAME_KEYS) {
      const v = data[key];
      if (v === undefined) continue;
      if (typeof v !== 'string') return fail(`data.${key}: expected a file name, got ${jsonPreview(v)}`);
      summary.data[key] = v;
    }
    for (const key of COUNT_KEYS) {
      const v = data[key];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
        return fail(`data.${key}: expected a non-negative integer, got ${jsonPreview(v)}`);
      }
      summary.data[key] = v;
    }
  }
  const training = raw['training'];
  if (training !== undefined) {
    if (!isRecord(training)) return fail('training: expected an object of settings');
    summary.training = {};
    for (const [key, v] of Object.entries(training)) {
      if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) {
        return fail(`training.${key}: expected a string, finite number or boolean, got ${jsonPreview(v)}`);
      }
      summary.training[key] = v;
    }
  }
  const metrics = raw['metrics'];
  if (metrics !== undefined) {
    if (!isRecord(metrics)) return fail('metrics: expected an object {name: number}');
    const out: Record<string, number> = {};
    for (const [key, v] of Object.entries(metrics)) {
      if (typeof v !== 'number' || !Number.isFinite(v))
        return fail(`metrics.${key}: expected a finite number, got ${jsonPreview(v)}`);
      out[key] = v;
    }
    summary.metrics = out;
  }
  return summary;
}
