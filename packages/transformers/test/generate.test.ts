import { AutoModelForCausalLM, Tensor, type PreTrainedModel } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attachAdapter,
  detachAdapter,
  forwardLogits,
  getAttachedAdapter,
  MorModelForCausalLM,
  loadWithAdapter,
  swapAdapter,
} from '../src/index.js';
import { fixture, maxAbsDiff, newTokens, readGolden, useFixtureModels, type KvGolden } from './helpers.js';

const golden = readGolden<KvGolden>('tiny-llama-kv/golden.json');
const ADAPTER = fixture('tiny-llama-kv/mor-adapter');

function greedy(model: PreTrainedModel): Promise<number[]> {
  const ids = golden.prompt_ids;
  const input_ids = new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
  const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
  return model
    .generate({ input_ids, attention_mask, max_new_tokens: golden.max_new_tokens, do_sample: false })
    .then((out) => newTokens(out as Tensor, ids.length));
}

describe('MoR adapter on a KV-cache model (tiny-llama-kv)', () => {
  let model: PreTrainedModel;
  beforeAll(async () => {
    useFixtureModels();
    model = await loadWithAdapter(AutoModelForCausalLM, 'tiny-llama-kv', { dtype: 'fp32', adapter: ADAPTER });
  });
  afterAll(() => model?.dispose());

  it('generates the golden greedy_mor tokens', async () => {
    expect(await greedy(model)).toEqual(golden.greedy_mor);
  });

  it('gives the golden prompt logits', async () => {
    const out = await forwardLogits(model, [golden.prompt_ids]);
    expect(maxAbsDiff(out.shape, out.data, golden.prompt_logits_mor)).toBeLessThan(1e-4);
  });

  it('detach restores the base model, and attach brings the adapter back', async () => {
    expect(getAttachedAdapter(model)?.adapter.kind).toBe('mor');
    expect(await detachAdapter(model)).toBe(true);
    expect(await detachAdapter(model)).toBe(false);
    expect(await greedy(model)).toEqual(golden.greedy_base);
    const base = await forwardLogits(model, [golden.prompt_ids]);
    expect(maxAbsDiff(base.shape, base.data, golden.prompt_logits_base)).toBeLessThan(1e-4);
    await attachAdapter(model, ADAPTER);
    expect(await greedy(model)).toEqual(golden.greedy_mor);
  });

  it('swaps adapters without detaching and refuses a second attach', async () => {
    await expect(attachAdapter(model, ADAPTER)).rejects.toThrow(/already attached/);
    const exposed = await swapAdapter(model, ADAPTER, { exposeGates: true });
    expect(exposed.gateOutputs).toHaveLength(6); // 2 layers × gate/up/down
    expect(await greedy(model)).toEqual(golden.greedy_mor);
  });
});

describe('loading without an adapter', () => {
  it('reproduces greedy_base and can take an adapter later', async () => {
    useFixtureModels();
    const model = await MorModelForCausalLM.from_pretrained('tiny-llama-kv', { dtype: 'fp32' });
    expect(await greedy(model)).toEqual(golden.greedy_base);
    await attachAdapter(model, ADAPTER);
    expect(await greedy(model)).toEqual(golden.greedy_mor);
    await model.dispose();
  });
});
