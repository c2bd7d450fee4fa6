import type { TrainBatch } from '@mor/engine';
import { IGNORE_LABEL } from './encode-messages.js';
import type { Example, TrainTask } from './encode-rows.js';

/** Options of {@link collateBatch}. */
export interface CollateOptions {
  task: TrainTask;
  /** Id written into padded positions (the attention mask hides them; labels there are -100). */
  padTokenId: number;
}

/**
 * Pads a list of examples on the right to the longest one and packs them as the train step reads them:
 * `[B, T]` input ids and attention mask (1 on tokens, 0 on padding), labels `[B, T]` UNshifted with -100 on
 * padding (causal-lm) or `[B]` class ids (seq-cls).
 */
export function collateBatch(examples: readonly Example[], options: CollateOptions): TrainBatch {
  const batchSize = examples.length;
  if (batchSize === 0) throw new RangeError('collateBatch: empty batch');
  const seqLength = Math.max(...examples.map((e) => e.inputIds.length));
  const inputIds = new BigInt64Array(batchSize * seqLength).fill(BigInt(options.padTokenId));
  const attentionMask = new BigInt64Array(batchSize * seqLength);
  const causal = options.task === 'causal-lm';
  const labels = causal
    ? new BigInt64Array(batchSize * seqLength).fill(BigInt(IGNORE_LABEL))
    : new BigInt64Array(batchSize);
  examples.forEach((e, b) => {
    const row = b * seqLength;
    e.inputIds.forEach((id, t) => {
      inputIds[row + t] = BigInt(id);
      attentionMask[row + t] = 1n;
    });
    if (causal) {
      if (!e.labels) throw new RangeError(`collateBatch: the example of line ${e.line} has no token labels`);
      e.labels.forEach((l, t) => (labels[row + t] = BigInt(l)));
    } else {
      if (e.classId === null)
        throw new RangeError(`collateBatch: the example of line ${e.line} has no class id`);
      labels[b] = BigInt(e.classId);
    }
  });
  return { inputIds, attentionMask, labels, batchSize, seqLength };
}
