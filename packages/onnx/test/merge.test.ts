import { describe, expect, it } from 'vitest';
import {
  applyAdapter,
  decodeModel,
  findLinearLayers,
  mergeLora,
  mergeStaticGate,
  tensorToFloat32,
} from '../src/index.js';
import {
  fixture,
  fixtureBytes,
  golden,
  int64,
  maxAbsDiff,
  run,
  type GoldenTensor,
} from './helpers/fixtures.js';
import { loadLoraAdapter, loadMorAdapter } from './helpers/load-adapter.js';

const g = golden<{ input_ids: number[][]; attention_mask: number[][]; logits_peft_lora: GoldenTensor }>(
  'tiny-llama/golden.json',
);
const feeds = () => ({ input_ids: int64(g.input_ids), attention_mask: int64(g.attention_mask) });
const load = () => decodeModel(fixtureBytes('tiny-llama/onnx/model.onnx'));
const gate = [0.1, 0.5, 0.15, 0.25];

describe('merging', () => {
  it('static gate: the patched graph equals the merged model', async () => {
    const adapter = loadMorAdapter(fixture('tiny-llama/mor-adapter/'));
    const patched = await load();
    applyAdapter(patched, adapter, { routing: 'static', gate });
    const merged = await load();
    const before = merged.graph!.initializer.length;
    mergeStaticGate(merged, adapter, gate);
    expect(merged.graph!.initializer.length).toBe(before);
    expect(merged.graph!.node.length).toBe((await load()).graph!.node.length);
    const a = (await run(patched, feeds()))['logits']!.data as Float32Array;
    const b = (await run(merged, feeds()))['logits']!.data as Float32Array;
    const base = (await run(await load(), feeds()))['logits']!.data as Float32Array;
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
    expect(maxAbsDiff(a, base)).toBeGreaterThan(1e-3);
  });

  it('merging does not write into the decoded bytes (weights are views of the file)', async () => {
    const bytes = fixtureBytes('tiny-llama/onnx/model.onnx');
    const copy = bytes.slice();
    const model = await decodeModel(bytes);
    mergeStaticGate(model, loadMorAdapter(fixture('tiny-llama/mor-adapter/')), gate);
    expect(Buffer.compare(bytes, copy)).toBe(0);
  });

  it('LoRA merge reproduces logits_peft_lora', async () => {
    const model = await load();
    mergeLora(model, loadLoraAdapter(fixture('tiny-llama/peft-lora/')));
    const out = await run(model, feeds());
    expect(maxAbsDiff(out['logits']!.data as Float32Array, g.logits_peft_lora.data)).toBeLessThan(1e-4);
  });

  it('a gate of the wrong length is refused', async () => {
    expect(() =>
      mergeStaticGate({ graph: undefined } as never, loadMorAdapter(fixture('tiny-llama/mor-adapter/')), [1]),
    ).toThrow(/gate has 1 values, the adapter has 4 experts/);
  });

  it('keeps untouched weights as they were', async () => {
    const model = await load();
    const layer = findLinearLayers(model).find((l) => l.modulePath.endsWith('layers.0.self_attn.k_proj'))!;
    const t = model.graph!.initializer.find((i) => i.name === layer.weight)!;
    const before = Float32Array.from(tensorToFloat32(t));
    mergeLora(model, loadLoraAdapter(fixture('tiny-llama/peft-lora/')));
    expect(maxAbsDiff(tensorToFloat32(t), before)).toBe(0);
  });
});
