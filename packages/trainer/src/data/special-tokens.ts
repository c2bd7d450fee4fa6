import type { PreTrainedTokenizer } from '@huggingface/transformers';

/** A text encoded as the tokenizer's post-processor lays it out: special tokens before, the text, after. */
export interface EncodedParts {
  /** Special tokens the tokenizer puts first (`<s>`, `[CLS]`). */
  prefix: number[];
  /** The text's own tokens. */
  content: number[];
  /** Special tokens the tokenizer puts last (`[SEP]`, `</s>` for tokenizers that add it). */
  suffix: number[];
}

function sameAt(haystack: readonly number[], needle: readonly number[], at: number): boolean {
  for (let i = 0; i < needle.length; i++) if (haystack[at + i] !== needle[i]) return false;
  return true;
}

/**
 * Encodes `text` with and without the special tokens and finds where the plain tokens sit inside the full
 * encoding; what lies before and after are the special tokens. Done by comparison rather than by reading the
 * post-processor's template, so any tokenizer transformers.js can load (BERT, Llama, GPT-2, T5…) works.
 * If the plain encoding is not found inside the full one, the whole encoding counts as content.
 */
export function encodeParts(tokenizer: PreTrainedTokenizer, text: string): EncodedParts {
  const full = tokenizer.encode(text);
  const plain = tokenizer.encode(text, { add_special_tokens: false });
  for (let at = 0; at + plain.length <= full.length; at++) {
    if (sameAt(full, plain, at)) {
      return { prefix: full.slice(0, at), content: plain, suffix: full.slice(at + plain.length) };
    }
  }
  return { prefix: [], content: full, suffix: [] };
}

/**
 * How many content tokens fit in `maxLength` beside the special tokens. Python transformers truncates the text
 * and then adds the special tokens (`[CLS] … [SEP]` stays whole); transformers.js' `truncation: true` cuts the
 * finished sequence instead and drops a trailing `[SEP]`/`</s>`. Training follows Python, so a classifier sees
 * the same layout it would in PyTorch. When even the special tokens do not fit, everything is cut at maxLength.
 */
export function contentBudget(parts: EncodedParts, maxLength: number | undefined): number {
  if (maxLength === undefined) return parts.content.length;
  const budget = maxLength - parts.prefix.length - parts.suffix.length;
  return Math.max(0, Math.min(parts.content.length, budget));
}

/** The parts joined, truncated as {@link contentBudget} says (and, in the degenerate case, cut at maxLength). */
export function joinTruncated(parts: EncodedParts, maxLength: number | undefined): number[] {
  const ids = [...parts.prefix, ...parts.content.slice(0, contentBudget(parts, maxLength)), ...parts.suffix];
  return maxLength === undefined ? ids : ids.slice(0, maxLength);
}
