import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { WORDNET_LLAMA, WORDNET_VOCAB_SIZE, readWordNet, wordnetDbDictDir } from '../src/index.js';

// The committed model: models/wordnet-llama (see its README.md for the recipe).
const models = fileURLToPath(new URL('../../../models/', import.meta.url));
const file = (name: string) =>
  JSON.parse(readFileSync(`${models}wordnet-llama/${name}`, 'utf8')) as Record<string, unknown>;

describe('models/wordnet-llama', () => {
  it("config matches the recipe's architecture and the tokenizer's vocabulary", () => {
    const config = file('config.json');
    const tok = file('tokenizer.json') as {
      model: { vocab: Record<string, number> };
      added_tokens: unknown[];
    };
    expect(Object.keys(tok.model.vocab)).toHaveLength(WORDNET_VOCAB_SIZE);
    expect(config.vocab_size).toBe(WORDNET_VOCAB_SIZE);
    expect(Math.max(...Object.values(tok.model.vocab))).toBe(WORDNET_VOCAB_SIZE - 1);
    expect(config).toMatchObject({
      model_type: 'llama',
      hidden_size: WORDNET_LLAMA.hidden,
      num_hidden_layers: WORDNET_LLAMA.layers,
      num_attention_heads: WORDNET_LLAMA.heads,
      num_key_value_heads: WORDNET_LLAMA.kvHeads,
      intermediate_size: WORDNET_LLAMA.intermediate,
      bos_token_id: 1,
      eos_token_id: 2,
      pad_token_id: 0,
    });
  });

  it('loads in transformers.js and greedily continues a WordNet prompt with English words', async () => {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = models;
    const tokenizer = await AutoTokenizer.from_pretrained('wordnet-llama');
    const model = await AutoModelForCausalLM.from_pretrained('wordnet-llama', { dtype: 'fp32' });
    try {
      const enc = tokenizer('dog (noun):');
      const out = await model.generate({ ...enc, max_new_tokens: 12, do_sample: false });
      const ids = (out as unknown as { tolist(): bigint[][] }).tolist()[0]!.map(Number);
      const text = tokenizer.decode(ids.slice(enc.input_ids.dims[1]), { skip_special_tokens: true });
      // A random-weight model strings arbitrary sub-word pieces together; a trained one writes words that
      // WordNet's glosses use.
      const known = new Set(
        readWordNet(wordnetDbDictDir()).flatMap((s) => s.gloss.toLowerCase().split(/[^a-z]+/)),
      );
      const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
      expect(words.length, text).toBeGreaterThanOrEqual(4);
      expect(words.filter((w) => known.has(w)).length / words.length, text).toBeGreaterThanOrEqual(0.8);
    } finally {
      await model.dispose();
    }
  });
});
