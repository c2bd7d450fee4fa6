import { describe, expect, it } from 'vitest';
import {
  createMorAdapter,
  parseAdapter,
  parseSafetensors,
  serializeAdapter,
  type MorAdapter,
} from '../src/index.js';
import { LORA_DIR, MOR_DIR, fixtureConfig, fixtureWeights } from './helpers.js';

const FIXTURES = [MOR_DIR, 'tiny-llama/mor-adapter-sgd1', 'tiny-llama-kv/mor-adapter', LORA_DIR];

describe('parseAdapter → serializeAdapter', () => {
  it.each(FIXTURES)('reproduces %s/adapter_model.safetensors byte for byte', (dir) => {
    const original = fixtureWeights(dir);
    const { safetensors } = serializeAdapter(parseAdapter(fixtureConfig(dir), original));
    // Tensor by tensor first (a clearer failure), then the whole file: header order and padding match PEFT's writer.
    const before = parseSafetensors(original);
    const after = parseSafetensors(safetensors);
    expect([...after.tensors.keys()]).toEqual([...before.tensors.keys()]);
    for (const [name, tensor] of before.tensors) expect(after.tensors.get(name)!.data).toEqual(tensor.data);
    expect(safetensors).toEqual(original);
  });

  it.each(FIXTURES)('keeps the config of %s (every key and value)', (dir) => {
    const original = JSON.parse(fixtureConfig(dir)) as Record<string, unknown>;
    const { configJson } = serializeAdapter(parseAdapter(fixtureConfig(dir), fixtureWeights(dir)));
    const written = JSON.parse(configJson) as Record<string, unknown>;
    expect(written).toEqual(original);
    expect(Object.keys(written)).toEqual(Object.keys(original));
  });

  it('preserves unknown config keys and their order, and writes edits', () => {
    const config = JSON.parse(fixtureConfig(MOR_DIR)) as Record<string, unknown>;
    const withExtras = JSON.stringify({ my_tool: { version: 3, tags: ['a'] }, ...config, notes: 'kept' });
    const adapter = parseAdapter(withExtras, fixtureWeights(MOR_DIR)) as MorAdapter;
    expect(adapter.rawConfig['my_tool']).toEqual({ version: 3, tags: ['a'] });
    const edited: MorAdapter = {
      ...adapter,
      config: { ...adapter.config, topK: 2 },
      staticGates: { chat: [0.25, 0.25, 0.25, 0.25] },
    };
    const written = JSON.parse(serializeAdapter(edited).configJson) as Record<string, unknown>;
    expect(Object.keys(written).slice(0, 2)).toEqual(['my_tool', 'peft_type']);
    expect(written['my_tool']).toEqual({ version: 3, tags: ['a'] });
    expect(written['notes']).toBe('kept');
    expect(written['top_k']).toBe(2);
    expect(written['static_gates']).toEqual({ chat: [0.25, 0.25, 0.25, 0.25] });
    const reread = parseAdapter(serializeAdapter(edited).configJson, fixtureWeights(MOR_DIR)) as MorAdapter;
    expect(reread.config.topK).toBe(2);
    expect(reread.staticGates).toEqual({ chat: [0.25, 0.25, 0.25, 0.25] });
  });

  it('writes F16 and BF16 on request; reading back gives the rounded values', () => {
    const adapter = parseAdapter(fixtureConfig(MOR_DIR), fixtureWeights(MOR_DIR)) as MorAdapter;
    for (const dtype of ['F16', 'BF16'] as const) {
      const { safetensors, configJson } = serializeAdapter(adapter, { dtype });
      expect(safetensors.length).toBeLessThan(fixtureWeights(MOR_DIR).length);
      const half = parseAdapter(configJson, safetensors) as MorAdapter;
      expect(half.dtype).toBe(dtype);
      const tolerance = dtype === 'F16' ? 2 ** -11 : 2 ** -8;
      const a = adapter.layers.get('model.layers.0.mlp.gate_proj')!.A;
      half.layers.get('model.layers.0.mlp.gate_proj')!.A.forEach((v, i) => {
        expect(Math.abs(v - a[i]!)).toBeLessThanOrEqual(Math.abs(a[i]!) * tolerance + 2 ** -24);
      });
      expect(serializeAdapter(half).safetensors).toEqual(safetensors); // stable once rounded
    }
  });

  it('writes a fresh adapter from createMorAdapter and refuses inconsistent layers', () => {
    const config = {
      r: 2,
      alpha: 4,
      experts: 3,
      topK: null,
      routerBias: true,
      dropout: 0,
      targets: ['fc'],
      routerAuxLossCoef: 0,
    };
    const layer = {
      dIn: 5,
      dOut: 6,
      r: 2,
      experts: 3,
      A: new Float32Array(10).fill(0.1),
      B: new Float32Array(12),
      omegaA: new Float32Array(6).fill(1),
      omegaB: new Float32Array(18).fill(1),
      routerWeight: new Float32Array(15).fill(0.2),
      routerBias: new Float32Array(3),
    };
    const adapter = createMorAdapter({ config, layers: new Map([['net.fc', layer]]) });
    const { configJson, safetensors } = serializeAdapter(adapter);
    const back = parseAdapter(configJson, safetensors) as MorAdapter;
    expect(back.config).toEqual(config);
    expect(back.taskType).toBe('CAUSAL_LM');
    expect(back.layers.get('net.fc')).toEqual(layer);
    expect(JSON.parse(configJson)).toMatchObject({
      peft_type: 'MOR',
      format_version: 1,
      num_experts: 3,
      router_bias: true,
    });
    const short = createMorAdapter({
      config,
      layers: new Map([['net.fc', { ...layer, omegaB: new Float32Array(17) }]]),
    });
    expect(() => serializeAdapter(short)).toThrow(
      "adapter_model.safetensors: tensor 'base_model.model.net.fc.mor_omega_B': has 17 values but its shape [3,6] needs 18",
    );
    const nan = createMorAdapter({
      config,
      layers: new Map([['net.fc', { ...layer, B: new Float32Array(12).fill(NaN) }]]),
    });
    expect(() => serializeAdapter(nan)).toThrow(
      "tensor 'base_model.model.net.fc.mor_B.weight': non-finite value NaN at element 0",
    );
    const noBias = createMorAdapter({
      config,
      layers: new Map([['net.fc', { ...layer, routerBias: null }]]),
    });
    expect(() => serializeAdapter(noBias)).toThrow(
      'router bias false; the config says r 2, num_experts 3, router_bias true',
    );
  });
});
