import { basename, join } from 'node:path';
import { TRAINING_SUMMARY_FILE, type Adapter, type TrainingSummary } from '@mor/format';
import { writeFileAtomic } from '@mor/format/node';
import type { EvalMetrics } from '../eval/eval-metrics.js';
import type { DataFile } from './read-data-file.js';

/** What {@link buildTrainingSummary} summarises. */
export interface SummaryInput {
  dataFile: string;
  data: DataFile;
  evalFile?: string | undefined;
  evalData?: DataFile | undefined;
  settings: Record<string, string | number | boolean | null>;
  adapter: Adapter | null;
  steps: number;
  epochs: number;
  trainLossFinal: number;
  evalBefore?: EvalMetrics | undefined;
  evalAfter?: EvalMetrics | undefined;
}

/** `training_summary.json` (schema in @mor/format `TrainingSummary`): file names only, never the trainer's paths. */
export function buildTrainingSummary(s: SummaryInput): TrainingSummary {
  const data: NonNullable<TrainingSummary['data']> = {
    file: basename(s.dataFile),
    rows: s.data.rows,
    tokens: s.data.tokens,
  };
  if (s.evalFile && s.evalData)
    Object.assign(data, { eval_file: basename(s.evalFile), eval_rows: s.evalData.rows });
  const training: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(s.settings)) if (v !== null) training[k] = v;
  training['steps'] = s.steps;
  training['epochs'] = Math.round(s.epochs * 1000) / 1000;
  if (s.adapter !== undefined && s.adapter !== null && s.adapter.kind !== 'lora') {
    const c = s.adapter.config;
    Object.assign(training, { r: c.r, alpha: c.alpha, experts: c.experts, targets: c.targets.join(',') });
    if (c.topK !== null) training['top_k'] = c.topK;
  } else if (s.adapter?.kind === 'lora') {
    Object.assign(training, { r: s.adapter.r, alpha: s.adapter.alpha, targets: s.adapter.targets.join(',') });
  }
  const metrics: Record<string, number> = {};
  const put = (k: string, v: number | undefined): void => {
    if (v !== undefined && Number.isFinite(v)) metrics[k] = v;
  };
  put('train_loss_final', s.trainLossFinal);
  put('eval_loss_before', s.evalBefore?.loss);
  put('eval_loss_after', s.evalAfter?.loss);
  put('eval_accuracy_before', s.evalBefore?.accuracy);
  put('eval_accuracy', s.evalAfter?.accuracy);
  return { data, training, metrics };
}

/** The text of `training_summary.json`. */
export function trainingSummaryJson(summary: TrainingSummary): string {
  return `${JSON.stringify(summary, null, 2)}\n`;
}

/** Writes `OUT/training_summary.json` atomically. */
export async function writeTrainingSummary(out: string, summary: TrainingSummary): Promise<void> {
  await writeFileAtomic(join(out, TRAINING_SUMMARY_FILE), trainingSummaryJson(summary));
}
