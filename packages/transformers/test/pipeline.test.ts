import { AutoTokenizer, type TextGenerationPipeline } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detachAdapter, pipelineWithAdapter } from '../src/index.js';
import { fixture, readGolden, useFixtureModels, type KvGolden } from './helpers.js';

const golden = readGolden<KvGolden>('tiny-llama-kv/golden.json');
// The golden prompt_ids start with BOS; the pipeline adds it only when asked (the tokenizer config does not).
const GREEDY = { max_new_tokens: golden.max_new_tokens, do_sample: false, add_special_tokens: true };

describe('text-generation pipeline with an adapter', () => {
  let generator: TextGenerationPipeline;
  let expectedMor: string;
  let expectedBase: string;
  beforeAll(async () => {
    useFixtureModels();
    generator = await pipelineWithAdapter('text-generation', 'tiny-llama-kv', {
      dtype: 'fp32',
      adapter: fixture('tiny-llama-kv/mor-adapter'),
    });
    // The golden text: the golden token ids (prompt + greedy continuation) decoded by the model's tokenizer.
    const tokenizer = await AutoTokenizer.from_pretrained('tiny-llama-kv');
    expectedMor = tokenizer.decode([...golden.prompt_ids, ...golden.greedy_mor], {
      skip_special_tokens: true,
    });
    expectedBase = tokenizer.decode([...golden.prompt_ids, ...golden.greedy_base], {
      skip_special_tokens: true,
    });
  });
  afterAll(() => generator?.dispose());

  it('returns the golden greedy_mor text', async () => {
    const out = (await generator(golden.prompt, GREEDY)) as Array<{
      generated_text: string;
    }>;
    expect(expectedMor).not.toBe(expectedBase);
    expect(out[0]!.generated_text).toBe(expectedMor);
  });

  it('returns the base text once the adapter is detached', async () => {
    await detachAdapter(generator.model);
    const out = (await generator(golden.prompt, GREEDY)) as Array<{
      generated_text: string;
    }>;
    expect(out[0]!.generated_text).toBe(expectedBase);
  });
});
