import { describe, expect, it } from 'vitest';
import {
  AdapterFormatError,
  adapterParameterCount,
  parseAdapter,
  serializeAdapter,
  type LoraAdapter,
} from '../src/index.js';
import { LORA_DIR, editedConfig, editedWeights, fixtureConfig, fixtureWeights, tname } from './helpers.js';

const weights = fixtureWeights(LORA_DIR);
const lora = (config: string, bytes = weights) => parseAdapter(config, bytes) as LoraAdapter;

describe('parseAdapter (PEFT LoRA)', () => {
  it('reads the PEFT-written fixture', () => {
    const adapter = lora(fixtureConfig(LORA_DIR));
    expect(adapter).toMatchObject({
      kind: 'lora',
      r: 4,
      alpha: 8,
      scaling: 2,
      useRslora: false,
      fanInFanOut: false,
      targets: ['q_proj', 'v_proj'],
      targetPattern: null,
      taskType: 'CAUSAL_LM',
      baseModel: null,
      dtype: 'F32',
    });
    expect([...adapter.layers.keys()]).toEqual([
      'model.layers.0.self_attn.q_proj',
      'model.layers.0.self_attn.v_proj',
      'model.layers.1.self_attn.q_proj',
      'model.layers.1.self_attn.v_proj',
    ]);
    const v = adapter.layers.get('model.layers.1.self_attn.v_proj')!;
    expect([v.r, v.dIn, v.dOut, v.A.length, v.B.length]).toEqual([4, 64, 32, 256, 128]);
    expect(v.B.some((x) => x !== 0)).toBe(true); // the fixture's B is non-zero
    expect(adapterParameterCount(adapter)).toBe(1792);
  });

  it('honours use_rslora (alpha / sqrt(r)) and fan_in_fan_out', () => {
    const adapter = lora(editedConfig(LORA_DIR, { use_rslora: true, fan_in_fan_out: true }));
    expect(adapter.scaling).toBe(4); // 8 / sqrt(4)
    expect(adapter.fanInFanOut).toBe(true);
    const config = JSON.parse(serializeAdapter(adapter).configJson) as Record<string, unknown>;
    expect([config['use_rslora'], config['fan_in_fan_out']]).toEqual([true, true]);
  });

  it('accepts target_modules as a regex string and writes it back', () => {
    const pattern = '.*\\.(q_proj|v_proj)';
    const adapter = lora(editedConfig(LORA_DIR, { target_modules: pattern }));
    expect(adapter.targetPattern).toBe(pattern);
    expect(adapter.targets).toEqual(['q_proj', 'v_proj']);
    expect(
      (JSON.parse(serializeAdapter(adapter).configJson) as Record<string, unknown>)['target_modules'],
    ).toBe(pattern);
    expect(() => lora(editedConfig(LORA_DIR, { target_modules: '.*\\.q_proj' }))).toThrow(
      "tensor 'base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight': module 'model.layers.0.self_attn.v_proj' is not covered by target_modules",
    );
  });

  it('refuses what it cannot represent: DoRA, per-module ranks', () => {
    expect(() => lora(editedConfig(LORA_DIR, { use_dora: true }))).toThrow(
      'adapter_config.json: use_dora: DoRA adapters are not supported',
    );
    expect(() => lora(editedConfig(LORA_DIR, { rank_pattern: { q_proj: 8 } }))).toThrow(
      'rank_pattern: per-module ranks/alphas are not supported',
    );
    expect(() => lora(editedConfig(LORA_DIR, { r: 0 }))).toThrow(
      'adapter_config.json: r: expected an integer ≥ 1, got 0',
    );
  });

  it('refuses lora shapes that disagree with r, incomplete pairs, and MoR tensors', () => {
    const a = tname('self_attn.q_proj', 'lora_A.weight');
    const b = tname('self_attn.q_proj', 'lora_B.weight');
    const reshaped = editedWeights(LORA_DIR, (ts) =>
      ts.map((t) => (t.name === a ? { ...t, shape: [2, 128] } : t)),
    );
    expect(() => lora(fixtureConfig(LORA_DIR), reshaped)).toThrow(
      new AdapterFormatError('shape [2,128] disagrees with r 4', {
        fileName: 'adapter_model.safetensors',
        tensorName: a,
      }),
    );
    const dropped = editedWeights(LORA_DIR, (ts) => ts.filter((t) => t.name !== b));
    expect(() => lora(fixtureConfig(LORA_DIR), dropped)).toThrow(
      `tensor '${b}': missing: module 'model.layers.0.self_attn.q_proj'`,
    );
    const mor = tname('self_attn.q_proj', 'mor_omega_A');
    const mixed = editedWeights(LORA_DIR, (ts) => [
      ...ts,
      { name: mor, dtype: 'F32', shape: [1], data: new Float32Array(1) },
    ]);
    expect(() => lora(fixtureConfig(LORA_DIR), mixed)).toThrow(
      `tensor '${mor}': a MoR tensor in a LORA adapter`,
    );
  });
});
