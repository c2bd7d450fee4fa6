import { readFile } from 'node:fs/promises';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { MorInputError } from '@mor/engine';
import { encodeRows } from '../data/encode-rows.js';
import { parseJsonlRows } from '../data/parse-jsonl.js';
import type { DataRow } from '../data/row-kinds.js';

/** Options of {@link readTokenRows}. */
export interface ReadTokenRowsOptions {
  /** A JSONL file (docs/cli.md "Data rows"). */
  file: string;
  /** Needed for rows with text; rows of `input_ids` pass without one. */
  tokenizer: PreTrainedTokenizer | null;
  /** Truncate every row to this many tokens (special tokens kept, as in training). */
  maxLength?: number;
}

/** Only the tokens matter here: a `{"text", "label"}` row is read as its text. */
function asTextRow(row: DataRow): DataRow {
  return row.kind === 'classification' ? { kind: 'text', line: row.line, text: row.text } : row;
}

/**
 * Reads a JSONL data file into token id rows, one per row, whatever the row kind — through the trainer's own
 * parser and tokenization, so statistics see exactly the tokens training sees. A malformed row fails the whole
 * read with `FILE:LINE: problem` before any model work starts.
 */
export async function readTokenRows(options: ReadTokenRowsOptions): Promise<number[][]> {
  const { file } = options;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new MorInputError(`cannot read data file ${file}: ${(e as Error).message}`);
  }
  const rows = parseJsonlRows(text, file).map(asTextRow);
  if (rows.length === 0) throw new MorInputError(`data file ${file} has no rows`);
  const examples = encodeRows({
    rows,
    fileName: file,
    task: 'causal-lm',
    tokenizer: options.tokenizer,
    ...(options.maxLength !== undefined ? { maxLength: options.maxLength } : {}),
  });
  return examples.map((e) => e.inputIds);
}
