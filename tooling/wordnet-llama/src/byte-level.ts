/**
 * GPT-2's byte-level pieces, as tokenizers' `ByteLevel` pre-tokenizer and decoder use them: every byte maps to
 * one printable unicode character, and text splits into pieces with GPT-2's regex before BPE.
 */

/** GPT-2's pre-tokenization regex (`ByteLevel` with `use_regex: true`). */
export const BYTE_LEVEL_REGEX =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

function buildByteToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const map: string[] = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    map[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + n++);
  }
  return map;
}

/** `BYTE_TO_UNICODE[b]`: the character standing for byte `b`. */
export const BYTE_TO_UNICODE: readonly string[] = buildByteToUnicode();

const UNICODE_TO_BYTE = new Map(BYTE_TO_UNICODE.map((c, b) => [c, b]));

/** Splits text into GPT-2 pieces. */
export function preTokenize(text: string): string[] {
  return text.match(BYTE_LEVEL_REGEX) ?? [];
}

/** A piece's UTF-8 bytes as byte-level characters. */
export function toByteChars(piece: string): string[] {
  return [...new TextEncoder().encode(piece)].map((b) => BYTE_TO_UNICODE[b]!);
}

/** Byte-level token strings back to text (invalid UTF-8 becomes U+FFFD, as the ByteLevel decoder does). */
export function fromByteChars(tokens: readonly string[]): string {
  const bytes: number[] = [];
  for (const t of tokens) for (const c of t) bytes.push(UNICODE_TO_BYTE.get(c) ?? 0x3f);
  return new TextDecoder().decode(new Uint8Array(bytes));
}
