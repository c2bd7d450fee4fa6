import type { PreTrainedTokenizer } from '@huggingface/transformers';

/** GPT-2's byte-level alphabet, inverted: the printable stand-in character → the byte it encodes. */
function byteLevelDecoder(): Map<string, number> {
  const bytes: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bytes.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bytes.push(b);
  for (let b = 0xae; b <= 0xff; b++) bytes.push(b);
  const chars = bytes.slice();
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(256 + extra++);
    }
  }
  return new Map(chars.map((c, i) => [String.fromCodePoint(c), bytes[i]!]));
}

const BYTE_OF = byteLevelDecoder();
const labels = new WeakMap<PreTrainedTokenizer, { ids: Map<number, string> }>();

function vocabToken(tokenizer: PreTrainedTokenizer, id: number): string | undefined {
  let entry = labels.get(tokenizer);
  if (!entry) {
    entry = { ids: new Map([...tokenizer.get_vocab()].map(([token, i]) => [i, token])) };
    labels.set(tokenizer, entry);
  }
  return entry.ids.get(id);
}

/**
 * A readable label for one token. Byte-level BPE tokens that are only part of a UTF-8 character decode to
 * U+FFFD on their own (the tiny random model generates many), so those show their bytes (`<0xE5>`) instead;
 * spaces and newlines are made visible.
 */
export function tokenLabel(tokenizer: PreTrainedTokenizer, id: number): string {
  const text = tokenizer.decode([id], { skip_special_tokens: false });
  if (!text.includes('\uFFFD')) return text.replace(/ /g, '·').replace(/\n/g, '⏎') || `#${id}`;
  const token = vocabToken(tokenizer, id);
  const bytes = token === undefined ? undefined : [...token].map((c) => BYTE_OF.get(c));
  if (!bytes || bytes.some((b) => b === undefined)) return `#${id}`;
  return bytes.map((b) => `<0x${b!.toString(16).toUpperCase().padStart(2, '0')}>`).join('');
}
