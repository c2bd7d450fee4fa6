import { IGNORE_LABEL } from '../data/encode-messages.js';
import type { TrainTask } from '../data/encode-rows.js';
import type { TrainBatch } from '@mor/engine';

/** Loss sums over a batch, to be added up over a data set before dividing. */
export interface LossSums {
  /** Sum of per-token (causal-lm) or per-row (seq-cls) cross-entropies. */
  lossSum: number;
  /** Tokens (causal-lm) or rows (seq-cls) in `lossSum`. */
  count: number;
  /** seq-cls: rows whose arg-max logit is the label. */
  correct: number;
}

/** -log softmax(row)[target], in float64 with the max subtracted (stable for large logits). */
function nll(logits: ArrayLike<number>, offset: number, width: number, target: number): number {
  let max = -Infinity;
  for (let v = 0; v < width; v++) max = Math.max(max, logits[offset + v]!);
  let sum = 0;
  for (let v = 0; v < width; v++) sum += Math.exp(logits[offset + v]! - max);
  return Math.log(sum) + max - logits[offset + target]!;
}

function argmax(logits: ArrayLike<number>, offset: number, width: number): number {
  let best = 0;
  for (let v = 1; v < width; v++) if (logits[offset + v]! > logits[offset + best]!) best = v;
  return best;
}

/**
 * Cross-entropy of a batch's logits (mor-spec.md §4): causal-lm logits `[B, T, V]` at position t score label
 * t+1 (-100 skipped); seq-cls logits `[B, C]` score the row's class. Returns sums, so a data set's mean is
 * token-weighted like one big batch.
 */
export function crossEntropySums(
  logits: ArrayLike<number>,
  shape: readonly number[],
  batch: TrainBatch,
  task: TrainTask,
): LossSums {
  const { batchSize: B, seqLength: T } = batch;
  const out: LossSums = { lossSum: 0, count: 0, correct: 0 };
  if (task === 'seq-cls') {
    const C = shape[shape.length - 1]!;
    for (let b = 0; b < B; b++) {
      const target = Number(batch.labels[b]);
      out.lossSum += nll(logits, b * C, C, target);
      out.count++;
      if (argmax(logits, b * C, C) === target) out.correct++;
    }
    return out;
  }
  const V = shape[2]!;
  if (shape[0] !== B || shape[1] !== T)
    throw new RangeError(`logits [${shape}] do not fit the batch [${B}, ${T}]`);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t + 1 < T; t++) {
      const target = Number(batch.labels[b * T + t + 1]);
      if (target === IGNORE_LABEL) continue;
      out.lossSum += nll(logits, (b * T + t) * V, V, target);
      out.count++;
    }
  }
  return out;
}
