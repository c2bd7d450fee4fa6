import { collateBatch } from '../data/collate.js';
import type { Example, TrainTask } from '../data/encode-rows.js';
import type { TrainBatch } from '@mor/engine';

/** Loss on a data set (token-weighted mean for causal-lm, row mean for seq-cls), and accuracy for seq-cls. */
export interface EvalMetrics {
  loss: number;
  /** seq-cls only. */
  accuracy?: number;
  /** Tokens scored (causal-lm) or rows (seq-cls). */
  count: number;
  rows: number;
}

/** Options shared by the evaluators. */
export interface EvaluateOptions {
  examples: readonly Example[];
  task: TrainTask;
  padTokenId: number;
  /** Rows per forward pass (default 8). */
  batchSize?: number;
}

/**
 * Runs `score` over the examples in order, batch by batch, and averages: the sum of the per-batch means times
 * their counts over the total count, i.e. one mean over the whole data set.
 */
export async function evaluateInBatches(
  options: EvaluateOptions,
  score: (batch: TrainBatch) => Promise<{ lossSum: number; count: number; correct?: number }>,
): Promise<EvalMetrics> {
  const size = options.batchSize ?? 8;
  let lossSum = 0;
  let count = 0;
  let correct = 0;
  for (let i = 0; i < options.examples.length; i += size) {
    const batch = collateBatch(options.examples.slice(i, i + size), options);
    const s = await score(batch);
    lossSum += s.lossSum;
    count += s.count;
    correct += s.correct ?? 0;
  }
  const metrics: EvalMetrics = {
    loss: count > 0 ? lossSum / count : NaN,
    count,
    rows: options.examples.length,
  };
  if (options.task === 'seq-cls') metrics.accuracy = count > 0 ? correct / count : NaN;
  return metrics;
}
