import { jsonPreview } from '@mor/core';

/** One chat message of a `messages` row. */
export interface ChatMessage {
  role: string;
  content: string;
}

/**
 * A data row as docs/cli.md lists the kinds, recognised by its keys. `line` is the 1-based line of the file it
 * came from, so every later problem (tokenizing, a label the model lacks) can still name it.
 */
export type DataRow =
  | { kind: 'text'; line: number; text: string }
  | { kind: 'prompt-completion'; line: number; prompt: string; completion: string }
  | { kind: 'messages'; line: number; messages: ChatMessage[] }
  | {
      kind: 'tokens';
      line: number;
      inputIds: number[];
      labels: number[] | null;
      label: number | string | null;
    }
  | { kind: 'classification'; line: number; text: string; label: number | string };

/** The row kinds by name, as they appear in errors and summaries. */
export type DataRowKind = DataRow['kind'];

const KIND_HELP =
  'expected {"text"}, {"prompt","completion"}, {"messages"}, {"input_ids","labels"?} or {"text","label"}';

function tokenIds(v: unknown, key: string, allowIgnore: boolean): number[] | string {
  if (!Array.isArray(v)) return `"${key}" must be an array of token ids`;
  for (let i = 0; i < v.length; i++) {
    const id = v[i] as unknown;
    const ok = typeof id === 'number' && Number.isInteger(id) && (id >= 0 || (allowIgnore && id === -100));
    if (!ok)
      return `"${key}"[${i}] must be a non-negative integer${allowIgnore ? ' or -100' : ''}, got ${jsonPreview(id)}`;
  }
  return v as number[];
}

function classLabel(v: unknown): number | string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  return undefined;
}

function chatMessages(v: unknown): ChatMessage[] | string {
  if (!Array.isArray(v) || v.length === 0) return '"messages" must be a non-empty array of {role, content}';
  for (let i = 0; i < v.length; i++) {
    const m = v[i] as Record<string, unknown> | null;
    if (
      typeof m !== 'object' ||
      m === null ||
      typeof m['role'] !== 'string' ||
      typeof m['content'] !== 'string'
    ) {
      return `"messages"[${i}] must be an object with string "role" and "content"`;
    }
  }
  if (!v.some((m: ChatMessage) => m.role === 'assistant'))
    return '"messages" has no assistant turn to learn from';
  return v as ChatMessage[];
}

/**
 * Recognises the kind of one parsed JSON row. Returns the typed row, or a problem sentence (without the
 * `FILE:LINE:` prefix, which the caller adds). Keys are checked before their values, so a row that mixes kinds
 * (`text` and `messages`) is refused instead of silently trained as one of them.
 */
export function recogniseRow(value: unknown, line: number): DataRow | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected a JSON object';
  const row = value as Record<string, unknown>;
  const has = (k: string): boolean => row[k] !== undefined;
  const kinds = [has('input_ids'), has('messages'), has('prompt') || has('completion'), has('text')];
  if (kinds.filter(Boolean).length > 1) return `the row mixes several kinds; ${KIND_HELP}`;
  if (has('label') && !has('text') && !has('input_ids')) return '"label" needs a "text" (or "input_ids")';
  const label = has('label') ? classLabel(row['label']) : null;
  if (label === undefined)
    return `"label" must be a class name or a non-negative index, got ${jsonPreview(row['label'])}`;
  if (has('input_ids')) {
    const ids = tokenIds(row['input_ids'], 'input_ids', false);
    if (typeof ids === 'string') return ids;
    if (ids.length === 0) return '"input_ids" is empty';
    let labels: number[] | null = null;
    if (has('labels')) {
      const l = tokenIds(row['labels'], 'labels', true);
      if (typeof l === 'string') return l;
      if (l.length !== ids.length) return `"labels" has ${l.length} entries, "input_ids" ${ids.length}`;
      labels = l;
    }
    return { kind: 'tokens', line, inputIds: ids, labels, label };
  }
  if (has('messages')) {
    const messages = chatMessages(row['messages']);
    return typeof messages === 'string' ? messages : { kind: 'messages', line, messages };
  }
  if (has('prompt') || has('completion')) {
    const { prompt, completion } = row;
    if (typeof prompt !== 'string' || typeof completion !== 'string')
      return '"prompt" and "completion" must both be strings';
    if (completion === '') return '"completion" is empty: nothing to learn';
    return { kind: 'prompt-completion', line, prompt, completion };
  }
  if (has('text')) {
    const text = row['text'];
    if (typeof text !== 'string' || text === '') return '"text" must be a non-empty string';
    return label === null ? { kind: 'text', line, text } : { kind: 'classification', line, text, label };
  }
  return KIND_HELP;
}
