import type { BpeModel } from './train-bpe.js';

/** The special tokens, in id order: ids 0–2 are the model builder's `BPE_SPECIAL` (pad, bos, eos). */
export const SPECIAL_TOKENS = ['<pad>', '<s>', '</s>', '<|im_start|>', '<|im_end|>'] as const;

/** Vocabulary size of the WordNet tokenizer (specials included). */
export const WORDNET_VOCAB_SIZE = 4096;

/** A ChatML template: `<|im_start|>role\ncontent<|im_end|>\n` per message, then the assistant's header. */
export const CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/**
 * `tokenizer.json` for a trained model: BPE with vocab and merges, ByteLevel pre-tokenizer (no prefix space)
 * and decoder, and the `tiny-llama` fixture's post-processor (`<s>` before each sequence).
 */
export function tokenizerJson(model: BpeModel): Record<string, unknown> {
  const special = (content: string, id: number) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((t) => special(t, model.vocab.get(t)!)),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 0 } },
      ],
      special_tokens: { '<s>': { id: '<s>', ids: [model.vocab.get('<s>')!], tokens: ['<s>'] } },
    },
    decoder: { type: 'ByteLevel', ...byteLevel },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(model.vocab),
      merges: model.merges.map(([a, b]) => [a, b]),
    },
  };
}

/** `tokenizer_config.json`: bos/eos/pad, the ChatML template, the context length the model was trained for. */
export function tokenizerConfigJson(modelMaxLength: number): Record<string, unknown> {
  return {
    backend: 'tokenizers',
    tokenizer_class: 'TokenizersBackend',
    bos_token: '<s>',
    eos_token: '</s>',
    pad_token: '<pad>',
    add_bos_token: true,
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
    chat_template: CHAT_TEMPLATE,
    model_max_length: modelMaxLength,
  };
}
