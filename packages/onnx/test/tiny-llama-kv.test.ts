import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { applyAdapter, decodeModel } from '../src/index.js';
import {
  fixture,
  fixtureBytes,
  golden,
  int64,
  maxAbsDiff,
  run,
  type GoldenTensor,
} from './helpers/fixtures.js';
import { loadMorAdapter } from './helpers/load-adapter.js';

interface Golden {
  prompt_ids: number[];
  prompt_logits_base: GoldenTensor;
  prompt_logits_mor: GoldenTensor;
}
const g = golden<Golden>('tiny-llama-kv/golden.json');

function feeds(): Record<string, ort.Tensor> {
  const n = g.prompt_ids.length;
  const f: Record<string, ort.Tensor> = {
    input_ids: int64([g.prompt_ids]),
    attention_mask: int64([g.prompt_ids.map(() => 1)]),
    position_ids: int64([g.prompt_ids.map((_, i) => i)]),
  };
  for (const l of [0, 1]) {
    for (const kv of ['key', 'value'])
      f[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, 16]);
  }
  expect(n).toBe(9);
  return f;
}

describe('tiny-llama-kv (KV-cache export)', () => {
  it('keeps every KV input/output and reproduces prompt_logits_mor', async () => {
    const model = await decodeModel(fixtureBytes('tiny-llama-kv/onnx/model.onnx'));
    const inputs = model.graph!.input.map((i) => i.name);
    const outputs = model.graph!.output.map((o) => o.name);
    applyAdapter(model, loadMorAdapter(fixture('tiny-llama-kv/mor-adapter/')));
    expect(model.graph!.input.map((i) => i.name)).toEqual(inputs);
    expect(model.graph!.output.map((o) => o.name)).toEqual(outputs);
    expect(outputs).toContain('present.1.value');
    const out = await run(model, feeds());
    expect(maxAbsDiff(out['logits']!.data as Float32Array, g.prompt_logits_mor.data)).toBeLessThan(1e-4);
    expect(out['present.1.value']!.dims).toEqual([1, 2, 9, 16]);
  });

  it('base model reproduces prompt_logits_base', async () => {
    const out = await run(fixtureBytes('tiny-llama-kv/onnx/model.onnx'), feeds());
    expect(maxAbsDiff(out['logits']!.data as Float32Array, g.prompt_logits_base.data)).toBeLessThan(1e-4);
  });
});
