import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BpeEncoder,
  SPECIAL_TOKENS,
  buildCorpus,
  readWordNet,
  tokenizerConfigJson,
  tokenizerJson,
  trainBpe,
  wordnetDbDictDir,
  type BpeModel,
} from '../src/index.js';

// A small slice of the real corpus keeps this fast; the committed tokenizer uses all of it (4096 tokens).
const texts = buildCorpus(readWordNet(wordnetDbDictDir()), { seed: 0 })
  .slice(0, 4000)
  .map((d) => d.text);
const VOCAB = 800;

let root: string;
let bpe: BpeModel;
let tokenizer: Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;

beforeAll(async () => {
  bpe = trainBpe(texts, { vocabSize: VOCAB, specialTokens: SPECIAL_TOKENS });
  root = await mkdtemp(join(tmpdir(), 'wordnet-tok-'));
  await mkdir(join(root, 'tok'));
  await writeFile(join(root, 'tok', 'tokenizer.json'), JSON.stringify(tokenizerJson(bpe)));
  await writeFile(join(root, 'tok', 'tokenizer_config.json'), JSON.stringify(tokenizerConfigJson(512)));
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = root;
  tokenizer = await AutoTokenizer.from_pretrained('tok');
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('trainBpe', () => {
  it('fills the vocabulary: specials first, 256 bytes, then merges', () => {
    expect(bpe.vocab.size).toBe(VOCAB);
    expect(SPECIAL_TOKENS.map((t) => bpe.vocab.get(t))).toEqual([0, 1, 2, 3, 4]);
    expect(bpe.merges).toHaveLength(VOCAB - 5 - 256);
    // Frequent English pieces of the corpus are single tokens.
    expect(bpe.vocab.has('Ġthe')).toBe(true);
    expect(bpe.vocab.has('Ġof')).toBe(true);
  });

  it('is deterministic', () => {
    expect(trainBpe(texts.slice(0, 500), { vocabSize: 400, specialTokens: SPECIAL_TOKENS }).merges).toEqual(
      trainBpe(texts.slice(0, 500), { vocabSize: 400, specialTokens: SPECIAL_TOKENS }).merges,
    );
  });

  it('applies merges as the most frequent pair first', () => {
    const m = trainBpe(['aaab aaab aaab ab'], {
      vocabSize: 5 + 256 + 2,
      specialTokens: SPECIAL_TOKENS,
      minFrequency: 1,
    });
    expect(m.merges[0]).toEqual(['a', 'a']);
  });
});

describe('the tokenizer in transformers.js', () => {
  const samples = [
    'dog (noun): a member of the genus Canis that has been domesticated by man.',
    'the nerve is dead.\n  two  spaces, tabs\tand "quotes"; 1234 numbers!',
    'unicode: café, naïve, Ελληνικά, 日本語, emoji 🐕‍🦺 and ∑ x² — done',
    "it's, we'll, they're, I'm, you've, he'd",
  ];

  it.each(samples)('ids equal our encoder, and decode round-trips: %s', (text) => {
    const enc = new BpeEncoder(bpe);
    const ours = enc.encode(text);
    const theirs = tokenizer.encode(text, { add_special_tokens: false });
    expect(theirs).toEqual(ours);
    expect(tokenizer.decode(theirs)).toBe(text);
    expect(enc.decode(ours)).toBe(text);
    // With special tokens, transformers.js adds <s> as the post-processor says.
    expect(tokenizer.encode(text)).toEqual([1, ...ours]);
    expect(tokenizer.decode(tokenizer.encode(text), { skip_special_tokens: true })).toBe(text);
  });

  it('knows the special tokens and renders the ChatML template', () => {
    expect(tokenizer.encode('<|im_start|>user', { add_special_tokens: false })[0]).toBe(3);
    const chat = tokenizer.apply_chat_template(
      [
        { role: 'user', content: 'antonym of dead?' },
        { role: 'assistant', content: 'alive' },
      ],
      { tokenize: false, add_generation_prompt: true },
    );
    expect(chat).toBe(
      '<|im_start|>user\nantonym of dead?<|im_end|>\n<|im_start|>assistant\nalive<|im_end|>\n<|im_start|>assistant\n',
    );
  });
});
