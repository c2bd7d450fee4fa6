import { AutoModelForCausalLM, type PreTrainedModel } from '@huggingface/transformers';
import type { LoraLayerWeights } from '@mor/core';
import type { LoraAdapter } from '@mor/format';
import { loadAdapter } from '@mor/format/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachAdapter, detachAdapter, forwardLogits, loadWithAdapter, swapAdapter } from '../src/index.js';
import { fixture, maxAbsDiff, readGolden, useFixtureModels, type NoKvGolden } from './helpers.js';

const golden = readGolden<NoKvGolden>('tiny-llama/golden.json');

describe('forward logits on a model without KV cache (tiny-llama)', () => {
  let model: PreTrainedModel;
  beforeAll(async () => {
    useFixtureModels();
    model = await loadWithAdapter(AutoModelForCausalLM, 'tiny-llama', { dtype: 'fp32' });
  });
  afterAll(() => model?.dispose());

  it('matches logits_base without an adapter', async () => {
    const out = await forwardLogits(model, golden.input_ids);
    expect(maxAbsDiff(out.shape, out.data, golden.logits_base)).toBeLessThan(1e-4);
  });

  it('matches logits_mor with the MoR adapter', async () => {
    await attachAdapter(model, fixture('tiny-llama/mor-adapter'));
    const out = await forwardLogits(model, golden.input_ids);
    expect(maxAbsDiff(out.shape, out.data, golden.logits_mor)).toBeLessThan(1e-4);
  });

  it('matches logits_peft_lora with the PEFT LoRA adapter', async () => {
    const attached = await swapAdapter(model, fixture('tiny-llama/peft-lora'));
    expect(attached.adapter.kind).toBe('lora');
    expect([...attached.modules.keys()].sort()).toEqual([
      'model.layers.0.self_attn.q_proj',
      'model.layers.0.self_attn.v_proj',
      'model.layers.1.self_attn.q_proj',
      'model.layers.1.self_attn.v_proj',
    ]);
    const out = await forwardLogits(model, golden.input_ids);
    expect(maxAbsDiff(out.shape, out.data, golden.logits_peft_lora)).toBeLessThan(1e-4);
    await detachAdapter(model);
  });

  it('reports router gates: softmax rows over the 4 experts, one output per adapted layer', async () => {
    const seen: Array<Record<string, { dims: readonly number[]; data: unknown }>> = [];
    const attached = await attachAdapter(model, fixture('tiny-llama/mor-adapter'), {
      onGates: (g) => seen.push(g),
    });
    const out = await forwardLogits(model, golden.input_ids);
    expect(maxAbsDiff(out.shape, out.data, golden.logits_mor)).toBeLessThan(1e-4);
    expect(seen).toHaveLength(1);
    const gates = seen[0]!;
    expect(Object.keys(gates).sort()).toEqual([...attached.gateOutputs].sort());
    expect(Object.keys(gates)).toHaveLength(6);
    for (const g of Object.values(gates)) {
      expect(g.dims).toEqual([2, 8, 4]);
      const data = g.data as Float32Array;
      for (let row = 0; row < 16; row++) {
        const sum = data[row * 4]! + data[row * 4 + 1]! + data[row * 4 + 2]! + data[row * 4 + 3]!;
        expect(sum).toBeCloseTo(1, 5);
      }
    }
    // forwardLogits also returns the gates (they are ordinary outputs of the adapted graph).
    expect(Object.keys(out.extra).sort()).toEqual([...attached.gateOutputs].sort());
    await detachAdapter(model);
  });

  it('a static gate replaces the router: the logits move, and the gate outputs are the fixed gate', async () => {
    const seen: Array<Record<string, { dims: readonly number[]; data: unknown }>> = [];
    await attachAdapter(model, fixture('tiny-llama/mor-adapter'), {
      gate: [1, 0, 0, 0],
      onGates: (g) => seen.push(g),
    });
    const out = await forwardLogits(model, golden.input_ids);
    expect(maxAbsDiff(out.shape, out.data, golden.logits_mor)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(out.shape, out.data, golden.logits_base)).toBeGreaterThan(1e-3);
    for (const g of Object.values(seen[0]!)) expect(Array.from(g.data as Float32Array)).toEqual([1, 0, 0, 0]);
    await detachAdapter(model);
  });

  it('a named static gate equals the rank-r LoRA with B ⊙ M (mor-spec.md §3)', async () => {
    const mor = await loadAdapter(fixture('tiny-llama/mor-adapter'));
    if (mor.kind !== 'mor') throw new Error('fixture mor-adapter is not a MoR adapter');
    const gate = [0.1, 0.2, 0.3, 0.4];
    await attachAdapter(model, { ...mor, staticGates: { task: gate } }, { gate: 'task' });
    const gated = await forwardLogits(model, golden.input_ids);
    await detachAdapter(model);
    // M[j,k] = Σ_i g_i ω_B[i,j] ω_A[i,k]; B_static = B ⊙ M, written out here independently of the graph pass.
    const layers = new Map<string, LoraLayerWeights>();
    const { r, experts: n } = mor.config;
    for (const [path, w] of mor.layers) {
      const B = new Float32Array(w.dOut * r);
      for (let j = 0; j < w.dOut; j++) {
        for (let k = 0; k < r; k++) {
          let m = 0;
          for (let i = 0; i < n; i++) m += gate[i]! * w.omegaB[i * w.dOut + j]! * w.omegaA[i * r + k]!;
          B[j * r + k] = w.B[j * r + k]! * m;
        }
      }
      layers.set(path, { dIn: w.dIn, dOut: w.dOut, r, A: w.A, B });
    }
    const lora: LoraAdapter = {
      kind: 'lora',
      r,
      alpha: mor.config.alpha,
      scaling: mor.config.alpha / r,
      useRslora: false,
      fanInFanOut: false,
      targets: [...mor.config.targets],
      targetPattern: null,
      rawConfig: {},
      taskType: null,
      baseModel: null,
      layers,
      dtype: mor.dtype,
    };
    await attachAdapter(model, lora);
    const merged = await forwardLogits(model, golden.input_ids);
    await detachAdapter(model);
    expect(maxAbsDiff(merged.shape, merged.data, golden.logits_base)).toBeGreaterThan(1e-3);
    expect(
      maxAbsDiff(gated.shape, gated.data, { shape: merged.shape, data: Array.from(merged.data) }),
    ).toBeLessThan(1e-4);
  });
});
