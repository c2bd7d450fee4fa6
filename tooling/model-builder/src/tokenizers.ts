import { readFileSync } from 'node:fs';

/** The byte-level BPE tokenizer of the `tiny-llama` fixture (vocab 384; `<pad>` 0, `<s>` 1, `</s>` 2). */
export const BPE_VOCAB_SIZE = 384;
export const BPE_SPECIAL = { pad: 0, bos: 1, eos: 2 } as const;

let bpeCache: string | undefined;

/** A fresh copy of the byte-level BPE `tokenizer.json` (copied from fixtures/tiny-llama into assets/). */
export function byteLevelBpeTokenizer(): Record<string, unknown> {
  bpeCache ??= readFileSync(new URL('../assets/byte-level-bpe-384.tokenizer.json', import.meta.url), 'utf8');
  return JSON.parse(bpeCache) as Record<string, unknown>;
}

/** `tokenizer_config.json` for the BPE tokenizer, with the class name the architecture's exports use. */
export function bpeTokenizerConfig(tokenizerClass: string): Record<string, unknown> {
  return {
    backend: 'tokenizers',
    bos_token: '<s>',
    eos_token: '</s>',
    pad_token: '<pad>',
    model_max_length: 1024,
    tokenizer_class: tokenizerClass,
  };
}

const WP_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const WP_WORDS = (
  'the a an is was are be to of and in it this that for on with as not but movie film story good great bad ' +
  'terrible love hate fun boring very really i you we they he she me my'
).split(' ');

/** The WordPiece vocabulary: specials, single characters, `##` continuations, a few whole words. */
export function wordPieceVocab(): string[] {
  const chars = [...'abcdefghijklmnopqrstuvwxyz0123456789'];
  const punct = [...'.,!?\'-:;()"'];
  return [...WP_SPECIALS, ...chars, ...punct, ...chars.map((c) => `##${c}`), ...WP_WORDS];
}

/**
 * A BERT (uncased) `tokenizer.json`: BertNormalizer, BertPreTokenizer, WordPiece, `[CLS] A [SEP]` template with
 * token type ids, WordPiece decoder. Every lowercase ASCII word tokenizes (characters are in the vocab).
 */
export function wordPieceTokenizer(): Record<string, unknown> {
  const vocab = wordPieceVocab();
  const ids = Object.fromEntries(vocab.map((t, i) => [t, i]));
  const special = (t: string) => ({
    id: ids[t]!,
    content: t,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tok = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const seq = (id: string, typeId: number) => ({ Sequence: { id, type_id: typeId } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: WP_SPECIALS.map(special),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [tok('[CLS]', 0), seq('A', 0), tok('[SEP]', 0)],
      pair: [tok('[CLS]', 0), seq('A', 0), tok('[SEP]', 0), seq('B', 1), tok('[SEP]', 1)],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [ids['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [ids['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: ids,
    },
  };
}

/** `tokenizer_config.json` of an uncased BERT. */
export function wordPieceTokenizerConfig(): Record<string, unknown> {
  return {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
    model_max_length: 512,
  };
}
