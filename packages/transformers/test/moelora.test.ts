// MoELoRA adapters (peft_type "MOELORA") through attachAdapter / generate: the MoR fixtures rewritten as the
// equivalent MoELoRA (mor-spec.md §7, moeLoraFromMor) and saved in the MoELoRA file format reproduce PyTorch's MoR
// goldens (logits, KV-cache greedy tokens); a one-expert MoELoRA is the LoRA of its expert; a gate and a merge are
// refused with the reason.
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModelForCausalLM, Tensor, type PreTrainedModel } from '@huggingface/transformers';
import { createRng, initMoeLoraLayer, moeLoraFromMor, type LoraLayerWeights } from '@mor/core';
import { MorInputError } from '@mor/engine';
import { createLoraAdapter, createMoeLoraAdapter, type MoeLoraAdapter, type MorAdapter } from '@mor/format';
import { loadAdapter, saveAdapter } from '@mor/format/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdapterAttachError,
  attachAdapter,
  detachAdapter,
  forwardLogits,
  loadWithAdapter,
} from '../src/index.js';
import { mergeAdapterIntoModelDir } from '../src/node/index.js';
import {
  fixture,
  maxAbsDiff,
  newTokens,
  readGolden,
  useFixtureModels,
  type KvGolden,
  type NoKvGolden,
} from './helpers.js';

const scratch = () => mkdtemp(join(tmpdir(), 'mor-moelora-'));

/** The MoR fixture adapter in `morDir` as the same function in the MoELoRA format, written to a new directory. */
async function moeLoraDirFromMor(morDir: string, topK: number | null = null): Promise<string> {
  const mor = (await loadAdapter(morDir)) as MorAdapter;
  const moe: MoeLoraAdapter = createMoeLoraAdapter({
    config: { ...mor.config, topK },
    layers: new Map([...mor.layers].map(([m, w]) => [m, moeLoraFromMor(w)])),
    baseModel: mor.baseModel,
  });
  const dir = join(await scratch(), 'moelora');
  await saveAdapter(dir, moe);
  expect((await loadAdapter(dir)).kind).toBe('moelora');
  return dir;
}

describe('MoELoRA on tiny-llama (no KV cache)', () => {
  const golden = readGolden<NoKvGolden>('tiny-llama/golden.json');
  const MOR = fixture('tiny-llama/mor-adapter');
  let model: PreTrainedModel;
  let dense: string;
  beforeAll(async () => {
    useFixtureModels();
    model = await loadWithAdapter(AutoModelForCausalLM, 'tiny-llama', { dtype: 'fp32' });
    dense = await moeLoraDirFromMor(MOR);
  });
  afterAll(() => model?.dispose());

  it("reproduces PyTorch's logits_mor, and reports the MoR router's gates", async () => {
    const seen: Array<Record<string, { dims: readonly number[]; data: unknown }>> = [];
    const attached = await attachAdapter(model, dense, { onGates: (g) => seen.push(g) });
    expect(attached.adapter.kind).toBe('moelora');
    expect(attached.modules.size).toBe(6);
    const out = await forwardLogits(model, golden.input_ids);
    await detachAdapter(model);
    expect(maxAbsDiff(out.shape, out.data, golden.logits_mor)).toBeLessThan(1e-4);
    expect(maxAbsDiff(out.shape, out.data, golden.logits_base)).toBeGreaterThan(1e-3);
    // The router is the MoR fixture's, so the gates are too.
    const morSeen: typeof seen = [];
    await attachAdapter(model, MOR, { onGates: (g) => morSeen.push(g) });
    await forwardLogits(model, golden.input_ids);
    await detachAdapter(model);
    const gates = Object.values(seen[0]!);
    const morGates = Object.values(morSeen[0]!);
    expect(gates).toHaveLength(6);
    gates.forEach((g, i) => {
      expect(g.dims).toEqual([2, 8, 4]);
      const a = g.data as Float32Array;
      const b = morGates[i]!.data as Float32Array;
      expect(a.reduce((m, v, j) => Math.max(m, Math.abs(v - b[j]!)), 0)).toBeLessThan(1e-5); // float32 rounding: the router logits come out of a different MatMul
    });
  });

  it('top-2 routing equals the MoR fixture under top-2 (the same function through the shared-expert branch)', async () => {
    const mor = (await loadAdapter(MOR)) as MorAdapter;
    await attachAdapter(model, { ...mor, config: { ...mor.config, topK: 2 } });
    const want = await forwardLogits(model, golden.input_ids);
    await detachAdapter(model);
    await attachAdapter(model, await moeLoraDirFromMor(MOR, 2));
    const got = await forwardLogits(model, golden.input_ids);
    await detachAdapter(model);
    const diff = got.data.reduce((m, v, i) => Math.max(m, Math.abs(v - want.data[i]!)), 0);
    expect(diff).toBeLessThan(1e-4);
    // And top-2 is not dense: the rewrite's dense logits (PyTorch's logits_mor) differ from these.
    expect(maxAbsDiff(got.shape, got.data, golden.logits_mor)).toBeGreaterThan(1e-3);
  });

  it('with one expert it is the plain LoRA of that expert', async () => {
    const mor = (await loadAdapter(MOR)) as MorAdapter;
    const rng = createRng(5);
    const config = { ...mor.config, experts: 1, topK: null, routerBias: true };
    const moe = createMoeLoraAdapter({
      config,
      layers: new Map(
        [...mor.layers].map(([m, w]) => {
          const l = initMoeLoraLayer({ dIn: w.dIn, dOut: w.dOut, config, rng });
          return [m, { ...l, B: rng.fillUniform(new Float32Array(w.dOut * w.r), -0.5, 0.5) }];
        }),
      ),
    });
    const loraLayers = new Map<string, LoraLayerWeights>(
      [...moe.layers].map(([m, l]) => [m, { dIn: l.dIn, dOut: l.dOut, r: l.r, A: l.A, B: l.B }]),
    );
    const lora = createLoraAdapter({
      r: config.r,
      alpha: config.alpha,
      targets: config.targets,
      layers: loraLayers,
    });
    await attachAdapter(model, moe);
    const got = await forwardLogits(model, golden.input_ids);
    await detachAdapter(model);
    await attachAdapter(model, lora);
    const want = await forwardLogits(model, golden.input_ids);
    await detachAdapter(model);
    const diff = got.data.reduce((m, v, i) => Math.max(m, Math.abs(v - want.data[i]!)), 0);
    expect(diff).toBeLessThan(1e-5);
    expect(maxAbsDiff(got.shape, got.data, golden.logits_base)).toBeGreaterThan(1e-3);
  });

  it('refuses a fixed gate and a merge, saying why, and writes nothing', async () => {
    await expect(attachAdapter(model, dense, { gate: 'uniform' })).rejects.toThrow(
      new AdapterAttachError('a gate applies to MoR adapters only; this one is a MoELoRA'),
    );
    const out = join(await scratch(), 'merged');
    const merge = mergeAdapterIntoModelDir({ model: fixture('tiny-llama'), adapter: dense, out });
    await expect(merge).rejects.toThrow(MorInputError);
    await expect(
      mergeAdapterIntoModelDir({ model: fixture('tiny-llama'), adapter: dense, out, gate: 'uniform' }),
    ).rejects.toThrow(
      'a MoELoRA adapter cannot be merged: its router mixes the experts per token, so no fixed weight delta equals it',
    );
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });
});

describe('MoELoRA on a KV-cache model (tiny-llama-kv): generate', () => {
  const golden = readGolden<KvGolden>('tiny-llama-kv/golden.json');
  let model: PreTrainedModel;
  beforeAll(async () => {
    useFixtureModels();
    const adapter = await moeLoraDirFromMor(fixture('tiny-llama-kv/mor-adapter'));
    model = await loadWithAdapter(AutoModelForCausalLM, 'tiny-llama-kv', { dtype: 'fp32', adapter });
  });
  afterAll(() => model?.dispose());

  it('generates the golden greedy_mor tokens and gives the golden prompt logits', async () => {
    const ids = golden.prompt_ids;
    const input_ids = new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
    const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
    const out = await model.generate({
      input_ids,
      attention_mask,
      max_new_tokens: golden.max_new_tokens,
      do_sample: false,
    });
    expect(newTokens(out as Tensor, ids.length)).toEqual(golden.greedy_mor);
    expect(golden.greedy_mor).not.toEqual(golden.greedy_base);
    const logits = await forwardLogits(model, [ids]);
    expect(maxAbsDiff(logits.shape, logits.data, golden.prompt_logits_mor)).toBeLessThan(1e-4);
  });
});
