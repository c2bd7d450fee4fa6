import { readModelFile } from '@mor/onnx/node';
import { findLinearLayers } from '@mor/onnx';
import { describe, expect, it } from 'vitest';
import { initAdapterForModel, TrainConfigError } from '../src/index.js';
import { fixture } from './helpers.js';

describe('initAdapterForModel', async () => {
  const layers = findLinearLayers(await readModelFile(fixture('tiny-llama/onnx/model.onnx')));

  it('sizes one MoR layer per matching linear layer, with Hugging Face module paths and spec §1 init', () => {
    const a = initAdapterForModel({
      model: layers,
      targets: ['gate_proj', 'down_proj'],
      rank: 4,
      experts: 3,
      seed: 5,
    });
    if (a.kind !== 'mor') throw new Error('expected MoR');
    expect([...a.layers.keys()]).toEqual([
      'model.layers.0.mlp.gate_proj',
      'model.layers.0.mlp.down_proj',
      'model.layers.1.mlp.gate_proj',
      'model.layers.1.mlp.down_proj',
    ]);
    const down = a.layers.get('model.layers.0.mlp.down_proj')!;
    expect([down.dIn, down.dOut, down.r, down.experts]).toEqual([128, 64, 4, 3]);
    expect(down.B.every((v) => v === 0)).toBe(true);
    expect(down.omegaA.every((v) => v === 1)).toBe(true);
    expect(down.A.some((v) => v !== 0)).toBe(true);
    expect(Math.max(...down.routerWeight.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(128));
    expect(a.config.alpha).toBe(8); // default 2·r
  });

  it('the seed reproduces the adapter; another seed does not', () => {
    const w = (seed: number) => {
      const a = initAdapterForModel({ model: layers, targets: ['q_proj'], rank: 2, seed });
      return [...a.layers.values()].map((l) => Array.from(l.A));
    };
    expect(w(1)).toEqual(w(1));
    expect(w(1)).not.toEqual(w(2));
  });

  it('LoRA kind, and a target the model lacks is refused listing the layer names', () => {
    const lora = initAdapterForModel({ model: layers, targets: ['q_proj', 'v_proj'], rank: 4, kind: 'lora' });
    expect(lora.kind).toBe('lora');
    expect(lora.layers.size).toBe(4);
    expect(() => initAdapterForModel({ model: layers, targets: ['query'] })).toThrow(TrainConfigError);
    expect(() => initAdapterForModel({ model: layers, targets: ['query'] })).toThrow(
      /target "query" matches no linear layer.*q_proj/,
    );
  });
});
