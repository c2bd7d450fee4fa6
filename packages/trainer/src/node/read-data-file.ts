import { readFile } from 'node:fs/promises';
import { TrainDataError } from '../errors.js';
import { encodeRows, type EncodeRowsOptions, type Example } from '../data/encode-rows.js';
import { parseJsonlRows } from '../data/parse-jsonl.js';

/** A data file tokenized for training or evaluation. */
export interface DataFile {
  examples: Example[];
  rows: number;
  /** Tokens after truncation, all rows (training_summary.json `data.tokens`). */
  tokens: number;
}

/**
 * Reads a JSONL data file (docs/cli.md "Data rows"), checks every row and tokenizes it. Any bad row fails here,
 * before the model is touched, with `FILE:LINE: problem` (the path as given).
 */
export async function readDataFile(
  file: string,
  options: Omit<EncodeRowsOptions, 'rows' | 'fileName'>,
): Promise<DataFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new TrainDataError(file, 0, `cannot read the data file (${(e as Error).message})`);
  }
  const rows = parseJsonlRows(text, file);
  const examples = encodeRows({ ...options, rows, fileName: file });
  return { examples, rows: examples.length, tokens: examples.reduce((n, e) => n + e.inputIds.length, 0) };
}
