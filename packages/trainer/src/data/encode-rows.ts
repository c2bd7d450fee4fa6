import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { TrainDataError } from '../errors.js';
import { encodeMessages, IGNORE_LABEL } from './encode-messages.js';
import type { DataRow } from './row-kinds.js';
import { contentBudget, encodeParts, joinTruncated, type EncodedParts } from './special-tokens.js';

/** What the model is trained to do (docs/cli.md `--task`). */
export type TrainTask = 'causal-lm' | 'seq-cls';

/** One tokenized row, ready for batching. */
export interface Example {
  /** Line of the data file it came from. */
  line: number;
  inputIds: number[];
  /** causal-lm: one label per token, UNshifted (the loss shifts), -100 ignored; null for seq-cls. */
  labels: number[] | null;
  /** seq-cls: the class index; null for causal-lm. */
  classId: number | null;
}

/** Options of {@link encodeRows}. */
export interface EncodeRowsOptions {
  rows: readonly DataRow[];
  /** Named in error messages (`FILE:LINE: problem`). */
  fileName: string;
  task: TrainTask;
  /** Needed by every row kind except pre-tokenized `input_ids` rows. */
  tokenizer: PreTrainedTokenizer | null;
  /** Truncate each row to this many tokens (special tokens kept, as Python transformers does). */
  maxLength?: number;
  /** seq-cls: the model config's `label2id` (class name → index). */
  label2id?: Readonly<Record<string, number>>;
  /** seq-cls: number of classes (from `id2label`); indices must be below it. */
  numLabels?: number;
  /**
   * causal-lm: append the tokenizer's EOS to text and completion rows. Off by default, as in HF's
   * `DataCollatorForLanguageModeling`: a sequence ends with EOS only when the tokenizer adds it itself.
   */
  addEos?: boolean;
}

function withEos(parts: EncodedParts, tokenizer: PreTrainedTokenizer, addEos: boolean): EncodedParts {
  const eos = tokenizer.eos_token_id;
  if (!addEos || eos === null || eos === undefined || parts.suffix.at(-1) === eos) return parts;
  // EOS joins the suffix, so truncation keeps it like any other closing special token.
  return { ...parts, suffix: [...parts.suffix, eos] };
}

function classId(label: number | string, options: EncodeRowsOptions): number | string {
  const { label2id = {}, numLabels } = options;
  if (typeof label === 'string') {
    const id = label2id[label];
    if (id !== undefined) return id;
    const names = Object.keys(label2id);
    return `unknown label ${JSON.stringify(label)}; the model's labels are ${names.length ? names.join(', ') : '(none in config.json label2id)'}`;
  }
  if (numLabels !== undefined && label >= numLabels)
    return `label index ${label} is out of range: the model has ${numLabels} labels`;
  return label;
}

/** Encodes one row; returns a problem sentence instead of throwing, so the caller can prefix FILE:LINE. */
function encodeRow(row: DataRow, options: EncodeRowsOptions): Example | string {
  const { task, maxLength, tokenizer } = options;
  const line = row.line;
  const cut = (ids: number[]): number[] => (maxLength === undefined ? ids : ids.slice(0, maxLength));
  if (task === 'seq-cls') {
    const label = row.kind === 'classification' || row.kind === 'tokens' ? row.label : null;
    if (label === null)
      return `a ${row.kind} row in a seq-cls run: expected {"text", "label"} (or {"input_ids", "label"})`;
    const id = classId(label, options);
    if (typeof id === 'string') return id;
    if (row.kind === 'tokens') return { line, inputIds: cut(row.inputIds), labels: null, classId: id };
    if (!tokenizer) return 'a text row needs the model tokenizer, and none was loaded';
    return {
      line,
      inputIds: joinTruncated(encodeParts(tokenizer, (row as { text: string }).text), maxLength),
      labels: null,
      classId: id,
    };
  }
  if (row.kind === 'classification')
    return 'a {"text", "label"} row is for seq-cls, but this is a causal-lm run';
  if (row.kind === 'tokens') {
    const labels = row.labels ?? row.inputIds;
    return { line, inputIds: cut(row.inputIds), labels: cut(labels), classId: null };
  }
  if (!tokenizer) return 'a text row needs the model tokenizer, and none was loaded';
  const addEos = options.addEos ?? false;
  if (row.kind === 'text') {
    const ids = joinTruncated(withEos(encodeParts(tokenizer, row.text), tokenizer, addEos), maxLength);
    return { line, inputIds: ids, labels: [...ids], classId: null };
  }
  if (row.kind === 'prompt-completion') {
    // As TRL's SFT: tokenize prompt+completion as one text and learn the tokens after the prompt's own tokens.
    const promptLength = encodeParts(tokenizer, row.prompt).content.length;
    const parts = withEos(encodeParts(tokenizer, row.prompt + row.completion), tokenizer, addEos);
    const kept = contentBudget(parts, maxLength);
    const content = parts.content.slice(0, kept);
    const inputIds = [...parts.prefix, ...content, ...parts.suffix];
    const labels = [
      ...parts.prefix.map(() => IGNORE_LABEL),
      ...content.map((id, i) => (i < promptLength ? IGNORE_LABEL : id)),
      ...parts.suffix,
    ];
    return { line, inputIds: cut(inputIds), labels: cut(labels), classId: null };
  }
  let encoded: { inputIds: number[]; labels: number[] };
  try {
    encoded = encodeMessages(tokenizer, row.messages);
  } catch (e) {
    return `cannot render "messages": ${(e as Error).message}`;
  }
  return { line, inputIds: cut(encoded.inputIds), labels: cut(encoded.labels), classId: null };
}

/** Causal-LM positions that count: label ≠ -100 at position ≥ 1 (position 0 predicts nothing after the shift). */
export function learnableTokens(example: Example): number {
  if (!example.labels) return 1;
  let n = 0;
  for (let i = 1; i < example.labels.length; i++) if (example.labels[i] !== IGNORE_LABEL) n++;
  return n;
}

/**
 * Tokenizes every row for `task`. Fails on the first row that cannot be used (wrong kind for the task, unknown
 * label, no chat template, nothing left to learn after truncation) with {@link TrainDataError} naming the line.
 */
export function encodeRows(options: EncodeRowsOptions): Example[] {
  return options.rows.map((row) => {
    const ex = encodeRow(row, options);
    if (typeof ex === 'string') throw new TrainDataError(options.fileName, row.line, ex);
    if (ex.inputIds.length === 0)
      throw new TrainDataError(options.fileName, row.line, 'the row has no tokens');
    if (learnableTokens(ex) === 0) {
      const why = options.maxLength !== undefined ? ` after truncation to ${options.maxLength} tokens` : '';
      throw new TrainDataError(
        options.fileName,
        row.line,
        `no token to learn${why} (every label is -100 or the row has one token)`,
      );
    }
    return ex;
  });
}
