import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { applyAdapter, decodeModel, findLinearLayers, matchTargets } from '../src/index.js';
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

interface Golden {
  input_ids: number[][];
  attention_mask: number[][];
  logits_base: GoldenTensor;
  logits_mor: GoldenTensor;
  logits_peft_lora: GoldenTensor;
}
const g = golden<Golden>('tiny-llama/golden.json');
const feeds = () => ({ input_ids: int64(g.input_ids), attention_mask: int64(g.attention_mask) });
const load = () => decodeModel(fixtureBytes('tiny-llama/onnx/model.onnx'));

describe('tiny-llama (TorchScript export)', () => {
  it('finds the 15 linear layers with module paths from node names', async () => {
    const layers = findLinearLayers(await load());
    expect(layers.map((l) => l.modulePath)).toContain('m.model.layers.1.mlp.down_proj');
    expect(layers).toHaveLength(2 * 7 + 1);
    const gate = layers.find((l) => l.modulePath === 'm.model.layers.0.mlp.gate_proj')!;
    expect(gate).toMatchObject({
      kind: 'matmul',
      dIn: 64,
      dOut: 128,
      weightLayout: '[d_in,d_out]',
      quantized: false,
    });
    expect(gate.weight).toMatch(/^onnx::MatMul_/);
    const matched = matchTargets(layers, ['model.layers.0.mlp.gate_proj', 'lm_head']);
    expect(matched.get('lm_head')!.output).toBe('logits');
  });

  it('base graph reproduces logits_base', async () => {
    const out = await run(await load(), feeds());
    expect(maxAbsDiff(out['logits']!.data as Float32Array, g.logits_base.data)).toBeLessThan(1e-4);
  });

  it('MoR adapter (dense routing) reproduces logits_mor', async () => {
    const model = await load();
    const adapter = loadMorAdapter(fixture('tiny-llama/mor-adapter/'));
    const res = applyAdapter(model, adapter);
    expect(res.layers.size).toBe(6);
    expect([...res.params.keys()]).toContain('mor.model.layers.0.mlp.gate_proj.A');
    expect(model.graph!.input.map((i) => i.name)).toEqual(['input_ids', 'attention_mask']);
    expect(model.graph!.output.map((o) => o.name)).toEqual(['logits']);
    const out = await run(model, feeds());
    const logits = out['logits']!.data as Float32Array;
    expect(maxAbsDiff(logits, g.logits_mor.data)).toBeLessThan(1e-4);
    expect(maxAbsDiff(logits, g.logits_base.data)).toBeGreaterThan(1e-3);
  });

  it('folded experts give the same logits', async () => {
    const model = await load();
    applyAdapter(model, loadMorAdapter(fixture('tiny-llama/mor-adapter/')), { foldExperts: true });
    const out = await run(model, feeds());
    expect(maxAbsDiff(out['logits']!.data as Float32Array, g.logits_mor.data)).toBeLessThan(1e-4);
  });

  it('paramsAsInputs and exposeGates: parameters are fed, gates come out as [batch, seq, N]', async () => {
    const model = await load();
    const res = applyAdapter(model, loadMorAdapter(fixture('tiny-llama/mor-adapter/')), {
      paramsAsInputs: true,
      exposeGates: true,
    });
    expect(model.graph!.initializer.some((t) => t.name.startsWith('mor.'))).toBe(false);
    const extra: Record<string, ort.Tensor> = {};
    for (const [name, p] of res.params) extra[name] = new ort.Tensor('float32', p.data, p.dims);
    const out = await run(model, { ...feeds(), ...extra });
    expect(maxAbsDiff(out['logits']!.data as Float32Array, g.logits_mor.data)).toBeLessThan(1e-4);
    expect(res.gateOutputs).toContain('mor_gates.model.layers.0.mlp.gate_proj');
    const gates = out['mor_gates.model.layers.0.mlp.gate_proj']!;
    expect(gates.dims).toEqual([2, 8, 4]);
    const gd = gates.data as Float32Array;
    for (let t = 0; t < 16; t++)
      expect(gd[4 * t]! + gd[4 * t + 1]! + gd[4 * t + 2]! + gd[4 * t + 3]!).toBeCloseTo(1, 5);
  });

  it('PEFT LoRA adapter reproduces logits_peft_lora', async () => {
    const model = await load();
    const res = applyAdapter(model, loadLoraAdapter(fixture('tiny-llama/peft-lora/')));
    expect(res.layers.size).toBe(4);
    const out = await run(model, feeds());
    expect(maxAbsDiff(out['logits']!.data as Float32Array, g.logits_peft_lora.data)).toBeLessThan(1e-4);
  });
});
