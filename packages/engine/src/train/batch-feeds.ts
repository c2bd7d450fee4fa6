import { emptyPastDims, type ModelInputLayout } from './model-inputs.js';
import { TrainSetupError } from './train-errors.js';
import type { TrainBatch, TrainOrt, TrainOrtTensor } from './types.js';

/** Label value that does not count (PyTorch / Hugging Face `ignore_index`). */
const IGNORE = -100n;

/** Checks the batch's array lengths against its `batchSize` × `seqLength`. */
export function checkBatch(batch: TrainBatch, task: 'causal-lm' | 'seq-cls'): void {
  const { batchSize: b, seqLength: t } = batch;
  if (!Number.isInteger(b) || !Number.isInteger(t) || b < 1 || t < 1)
    throw new TrainSetupError(`batch size ${b} × sequence length ${t} is not a positive size`);
  const expect = (name: string, got: number, want: number) => {
    if (got !== want)
      throw new TrainSetupError(`batch ${name} has ${got} values, expected ${want}`, { tensor: name });
  };
  expect('inputIds', batch.inputIds.length, b * t);
  expect('attentionMask', batch.attentionMask.length, b * t);
  expect('labels', batch.labels.length, task === 'causal-lm' ? b * t : b);
  if (batch.tokenTypeIds) expect('tokenTypeIds', batch.tokenTypeIds.length, b * t);
}

/**
 * Label positions that count: causal-lm labels shift by one (position t is predicted from t−1, so each row's
 * first label never counts), seq-cls counts rows. This is the weight of the batch in gradient accumulation.
 */
export function countTargets(batch: TrainBatch, task: 'causal-lm' | 'seq-cls'): number {
  let n = 0;
  if (task === 'seq-cls') {
    for (const l of batch.labels) if (l !== IGNORE) n++;
    return n;
  }
  const t = batch.seqLength;
  for (let i = 0; i < batch.labels.length; i++) if (i % t !== 0 && batch.labels[i] !== IGNORE) n++;
  return n;
}

/**
 * Position ids as transformers.js computes them from the attention mask: cumulative sum − 1, and 1 at padded
 * positions.
 */
function positionIds(batch: TrainBatch): BigInt64Array {
  const { batchSize: b, seqLength: t } = batch;
  const out = new BigInt64Array(b * t);
  for (let r = 0; r < b; r++) {
    let seen = 0n;
    for (let c = 0; c < t; c++) {
      const m = batch.attentionMask[r * t + c]!;
      seen += m;
      out[r * t + c] = m === 0n ? 1n : seen - 1n;
    }
  }
  return out;
}

/** The model inputs and `labels` for one batch, as CPU tensors. */
export function batchFeeds(
  ort: TrainOrt,
  layout: ModelInputLayout,
  batch: TrainBatch,
  task: 'causal-lm' | 'seq-cls',
): Record<string, TrainOrtTensor> {
  const { batchSize: b, seqLength: t } = batch;
  const int64 = (data: BigInt64Array, dims: number[]) => new ort.Tensor('int64', data as never, dims);
  const feeds: Record<string, TrainOrtTensor> = {
    input_ids: int64(batch.inputIds, [b, t]),
    labels: int64(batch.labels, task === 'causal-lm' ? [b, t] : [b]),
  };
  if (layout.hasAttentionMask) feeds['attention_mask'] = int64(batch.attentionMask, [b, t]);
  if (layout.hasPositionIds) feeds['position_ids'] = int64(positionIds(batch), [b, t]);
  if (layout.hasTokenTypeIds)
    feeds['token_type_ids'] = int64(batch.tokenTypeIds ?? new BigInt64Array(b * t), [b, t]);
  for (const p of layout.past)
    feeds[p.name] =
      p.type === 'float16'
        ? new ort.Tensor('float16', new Uint16Array(0) as never, emptyPastDims(p, b))
        : new ort.Tensor('float32', new Float32Array(0) as never, emptyPastDims(p, b));
  return feeds;
}
