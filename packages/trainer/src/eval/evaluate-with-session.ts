import type { TrainSessionLike } from '../session-types.js';
import { evaluateInBatches, type EvalMetrics, type EvaluateOptions } from './eval-metrics.js';

/**
 * Loss (and accuracy) of the session's current weights on a data set, through the training graph without an
 * update: what the trainer reports before and after training. The session reports a mean per batch; it is
 * weighted back by the batch's token (or row) count.
 */
export async function evaluateWithSession(
  session: TrainSessionLike,
  options: EvaluateOptions,
): Promise<EvalMetrics> {
  return evaluateInBatches(options, async (batch) => {
    const r = await session.evaluate(batch);
    const count = options.task === 'seq-cls' ? r.count : r.tokens;
    return { lossSum: r.loss * count, count, ...(r.correct !== undefined ? { correct: r.correct } : {}) };
  });
}
