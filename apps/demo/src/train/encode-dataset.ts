import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { encodeRows, parseJsonlRows, type Example } from '@mor/trainer';
import type { TrainExample } from '../data/multitask.js';

/** The name data errors carry (`multitask.jsonl:LINE: problem`), as for a data file given to `mor train`. */
export const DATASET_NAME = 'multitask.jsonl';

/** The data set as the JSONL a `mor train` user would write (`{"prompt", "completion"}` per line). */
export function datasetJsonl(examples: readonly TrainExample[]): string {
  return examples.map(({ prompt, completion }) => JSON.stringify({ prompt, completion })).join('\n');
}

/**
 * Tokenizes the prompt/completion rows with the page's tokenizer through the trainer's own data pipeline
 * (`parseJsonlRows` → `encodeRows`), exactly as the CLI trains from a file: BOS from the tokenizer, loss on the
 * completion tokens only (prompt positions labelled -100).
 */
export function encodeDataset(examples: readonly TrainExample[], tokenizer: PreTrainedTokenizer): Example[] {
  const rows = parseJsonlRows(datasetJsonl(examples), DATASET_NAME);
  return encodeRows({ rows, fileName: DATASET_NAME, task: 'causal-lm', tokenizer });
}

/** The id collateBatch writes into padded positions: the tokenizer's pad token, else EOS, else 0. */
export function padTokenId(tokenizer: PreTrainedTokenizer): number {
  const t = tokenizer as unknown as { pad_token_id?: number | null; eos_token_id?: number | null };
  return t.pad_token_id ?? t.eos_token_id ?? 0;
}
