import type { PreTrainedModel } from '@huggingface/transformers';
import { forwardLogits } from '@mor/transformers';
import { crossEntropySums } from './cross-entropy.js';
import { evaluateInBatches, type EvalMetrics, type EvaluateOptions } from './eval-metrics.js';

function rows(data: BigInt64Array, batch: number, seq: number): number[][] {
  return Array.from({ length: batch }, (_, b) => Array.from(data.subarray(b * seq, (b + 1) * seq), Number));
}

/**
 * Loss (and accuracy) of a loaded transformers.js model — with whatever adapter is attached — on a data set: one
 * forward pass per batch (right-padded, attention mask set), cross-entropy in float64 here. This is the inference
 * path (`mor eval`), independent of the training graph, so any model transformers.js runs can be scored.
 */
export async function evaluateWithModel(
  model: PreTrainedModel,
  options: EvaluateOptions,
): Promise<EvalMetrics> {
  return evaluateInBatches(options, async (batch) => {
    const { batchSize: B, seqLength: T } = batch;
    const { shape, data } = await forwardLogits(model, rows(batch.inputIds, B, T), {
      attentionMask: rows(batch.attentionMask, B, T),
    });
    return crossEntropySums(data, shape, batch, options.task);
  });
}
