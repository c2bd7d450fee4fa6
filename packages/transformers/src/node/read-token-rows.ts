import { readFile } from 'node:fs/promises';
import type { PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
import { MorInputError } from '../errors.js';

/** Options of {@link readTokenRows}. */
export interface ReadTokenRowsOptions {
  /** A JSONL file (docs/cli.md "Data rows"). */
  file: string;
  /** Needed for rows with text; rows of `input_ids` pass without one. */
  tokenizer: PreTrainedTokenizer | null;
  /** Truncate every row to this many tokens. */
  maxLength?: number;
}

type Row = Record<string, unknown>;

function fail(file: string, line: number, problem: string): never {
  throw new MorInputError(`${file}:${line}: ${problem}`);
}

function encode(tokenizer: PreTrainedTokenizer, text: string): number[] {
  const { input_ids } = tokenizer(text) as { input_ids: Tensor };
  return Array.from(input_ids.data as ArrayLike<bigint>, Number);
}

/** The token ids of one row, whatever its kind (text, prompt/completion, messages, input_ids, text+label). */
function rowIds(row: Row, tokenizer: PreTrainedTokenizer | null, file: string, line: number): number[] {
  if (Array.isArray(row['input_ids'])) {
    const ids = row['input_ids'] as unknown[];
    if (!ids.every((v) => Number.isInteger(v) && (v as number) >= 0))
      fail(file, line, 'input_ids must be non-negative integers');
    return ids as number[];
  }
  const tok = tokenizer ?? fail(file, line, 'a text row needs the model tokenizer, and none was loaded');
  if (typeof row['text'] === 'string') return encode(tok, row['text']);
  if (typeof row['prompt'] === 'string' && typeof row['completion'] === 'string')
    return encode(tok, row['prompt'] + row['completion']);
  if (Array.isArray(row['messages'])) {
    try {
      return tok.apply_chat_template(row['messages'] as { role: string; content: string }[], {
        tokenize: true,
        return_tensor: false,
        return_dict: false,
      }) as unknown as number[];
    } catch (e) {
      fail(file, line, `cannot render messages with the chat template (${(e as Error).message})`);
    }
  }
  fail(file, line, 'expected "text", "prompt"+"completion", "messages" or "input_ids"');
}

/**
 * Reads a JSONL data file into token id rows (one per non-blank line). A malformed row fails the whole read,
 * naming the file, the line and the problem, before any model work starts.
 */
export async function readTokenRows(options: ReadTokenRowsOptions): Promise<number[][]> {
  const { file } = options;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new MorInputError(`cannot read data file ${file}: ${(e as Error).message}`);
  }
  const rows: number[][] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(raw);
    } catch (e) {
      fail(file, i + 1, `not valid JSON (${(e as Error).message})`);
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row))
      fail(file, i + 1, 'expected a JSON object');
    let ids = rowIds(row as Row, options.tokenizer, file, i + 1);
    if (options.maxLength !== undefined) ids = ids.slice(0, options.maxLength);
    if (ids.length === 0) fail(file, i + 1, 'the row has no tokens');
    rows.push(ids);
  });
  if (rows.length === 0) throw new MorInputError(`data file ${file} has no rows`);
  return rows;
}
