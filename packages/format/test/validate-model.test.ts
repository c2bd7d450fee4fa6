import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AdapterFormatError,
  adapterParameterCount,
  parseAdapter,
  parseSafetensors,
  validateAdapterAgainstModel,
  type BaseLayerShape,
  type MorAdapter,
} from '../src/index.js';
import { LORA_DIR, MOR_DIR, fixtureConfig, fixturePath, fixtureWeights } from './helpers.js';

/** The linear layers of the tiny-llama base model, from its own weights (`X.weight` of shape [d_out, d_in]). */
function baseLayers(): Map<string, BaseLayerShape> {
  const model = parseSafetensors(new Uint8Array(readFileSync(fixturePath('tiny-llama/model.safetensors'))));
  const layers = new Map<string, BaseLayerShape>();
  for (const t of model.tensors.values()) {
    if (t.name.endsWith('.weight') && t.shape.length === 2)
      layers.set(t.name.slice(0, -'.weight'.length), { dIn: t.shape[1]!, dOut: t.shape[0]! });
  }
  return layers;
}

const mor = () => parseAdapter(fixtureConfig(MOR_DIR), fixtureWeights(MOR_DIR)) as MorAdapter;

describe('validateAdapterAgainstModel', () => {
  it('accepts the fixture adapters on their base model', () => {
    const layers = baseLayers();
    expect(layers.get('model.layers.0.mlp.down_proj')).toEqual({ dIn: 128, dOut: 64 });
    expect(() => validateAdapterAgainstModel(mor(), layers)).not.toThrow();
    expect(() =>
      validateAdapterAgainstModel(parseAdapter(fixtureConfig(LORA_DIR), fixtureWeights(LORA_DIR)), layers),
    ).not.toThrow();
  });

  it('refuses a module that matches no layer of the model, naming its tensor', () => {
    const layers = baseLayers();
    layers.delete('model.layers.1.mlp.up_proj');
    expect(() => validateAdapterAgainstModel(mor(), layers)).toThrow(
      new AdapterFormatError("module 'model.layers.1.mlp.up_proj' matches no layer of the base model", {
        fileName: 'adapter_model.safetensors',
        tensorName: 'base_model.model.model.layers.1.mlp.up_proj.mor_A.weight',
      }),
    );
  });

  it('refuses d_in / d_out that disagree with the base layer', () => {
    const layers = baseLayers();
    layers.set('model.layers.0.mlp.gate_proj', { dIn: 32, dOut: 128 });
    expect(() =>
      validateAdapterAgainstModel(mor(), layers, { fileName: 'a/adapter_model.safetensors' }),
    ).toThrow(
      "a/adapter_model.safetensors: tensor 'base_model.model.model.layers.0.mlp.gate_proj.mor_A.weight': shape [4,64] disagrees with the base layer: d_in 64, the model's 'model.layers.0.mlp.gate_proj' takes 32",
    );
    layers.set('model.layers.0.mlp.gate_proj', { dIn: 64, dOut: 100 });
    expect(() => validateAdapterAgainstModel(mor(), layers)).toThrow(
      "tensor 'base_model.model.model.layers.0.mlp.gate_proj.mor_B.weight': shape [128,4] disagrees with the base layer: d_out 128",
    );
  });
});

describe('adapterParameterCount', () => {
  it('counts mor-spec §6 per layer, with and without router bias', () => {
    const adapter = mor();
    expect(adapterParameterCount(adapter)).toBe(9312); // 6 layers × (4·d_in + d_out·4 + 4·(4 + d_out) + 4·d_in)
    const layers = new Map(
      [...adapter.layers].map(([k, l]) => [k, { ...l, routerBias: new Float32Array(4) }]),
    );
    expect(adapterParameterCount({ ...adapter, layers })).toBe(9312 + 6 * 4);
  });
});
