import { describe, expect, it } from 'vitest';
import {
  AdapterFormatError,
  SafetensorsError,
  parseAdapter,
  type MorAdapter,
  type TensorToWrite,
} from '../src/index.js';
import { MOR_DIR, editedConfig, editedWeights, fixtureConfig, fixtureWeights, tname } from './helpers.js';

const W = 'adapter_model.safetensors';
const C = 'adapter_config.json';
const GATE_OMEGA_A = tname('mlp.gate_proj', 'mor_omega_A');

/** The message of the error `parseAdapter` throws, checked to be an AdapterFormatError naming `file`/`tensor`. */
function refusal(config: string, weights: Uint8Array, file: string, tensor?: string): string {
  try {
    parseAdapter(config, weights);
  } catch (error) {
    expect(error).toBeInstanceOf(AdapterFormatError);
    const e = error as AdapterFormatError;
    expect(e.fileName).toBe(file);
    expect(e.tensorName).toBe(tensor);
    return e.message;
  }
  throw new Error('expected a refusal');
}

const config = fixtureConfig(MOR_DIR);
const weightsWith = (edit: (ts: TensorToWrite[]) => TensorToWrite[]) => editedWeights(MOR_DIR, edit);
const replace = (name: string, make: (t: TensorToWrite) => TensorToWrite) => (ts: TensorToWrite[]) =>
  ts.map((t) => (t.name === name ? make(t) : t));
const f32 = (n: number, value = 0.5) => new Float32Array(n).fill(value);

describe('parseAdapter (MoR)', () => {
  it('reads the fixture: config mapped to core names, six modules, owned weights', () => {
    const adapter = parseAdapter(config, fixtureWeights(MOR_DIR)) as MorAdapter;
    expect(adapter.kind).toBe('mor');
    expect(adapter.config).toEqual({
      r: 4,
      alpha: 8,
      experts: 4,
      topK: null,
      routerBias: false,
      dropout: 0,
      targets: ['gate_proj', 'up_proj', 'down_proj'],
      routerAuxLossCoef: 0,
    });
    expect(adapter.taskType).toBe('CAUSAL_LM');
    expect(adapter.baseModel).toBe('tiny-llama');
    expect(adapter.dtype).toBe('F32');
    expect([...adapter.layers.keys()]).toContain('model.layers.0.mlp.gate_proj');
    const gate = adapter.layers.get('model.layers.1.mlp.down_proj')!;
    expect([gate.dIn, gate.dOut, gate.r, gate.experts, gate.routerBias]).toEqual([128, 64, 4, 4, null]);
    expect([
      gate.A.length,
      gate.B.length,
      gate.omegaA.length,
      gate.omegaB.length,
      gate.routerWeight.length,
    ]).toEqual([512, 256, 16, 256, 512]);
  });

  it('refuses an omega_A shape that disagrees with num_experts', () => {
    const weights = weightsWith(replace(GATE_OMEGA_A, (t) => ({ ...t, shape: [3, 4], data: f32(12) })));
    expect(refusal(config, weights, W, GATE_OMEGA_A)).toBe(
      "adapter_model.safetensors: tensor 'base_model.model.model.layers.0.mlp.gate_proj.mor_omega_A': shape [3,4] disagrees with num_experts 4",
    );
  });

  it('refuses shapes that disagree with r, with each other, or have the wrong rank', () => {
    const a = tname('mlp.up_proj', 'mor_A.weight');
    expect(
      refusal(config, weightsWith(replace(a, (t) => ({ ...t, shape: [3, 64], data: f32(192) }))), W, a),
    ).toBe(`${W}: tensor '${a}': shape [3,64] disagrees with r 4`);
    const ob = tname('mlp.up_proj', 'mor_omega_B');
    expect(
      refusal(config, weightsWith(replace(ob, (t) => ({ ...t, shape: [4, 64], data: f32(256) }))), W, ob),
    ).toBe(`${W}: tensor '${ob}': shape [4,64] disagrees with d_out (rows of mor_B.weight) 128`);
    const router = tname('mlp.down_proj', 'mor_router.weight');
    expect(
      refusal(
        config,
        weightsWith(replace(router, (t) => ({ ...t, shape: [4, 64], data: f32(256) }))),
        W,
        router,
      ),
    ).toContain('shape [4,64] disagrees with d_in (columns of mor_A.weight) 128');
    expect(
      refusal(
        config,
        weightsWith(replace(GATE_OMEGA_A, (t) => ({ ...t, shape: [16], data: f32(16) }))),
        W,
        GATE_OMEGA_A,
      ),
    ).toContain('shape [16] should have 2 dimensions [num_experts, r]');
  });

  it('refuses an incomplete tensor group, naming the missing tensor', () => {
    const router = tname('mlp.gate_proj', 'mor_router.weight');
    const message = refusal(
      config,
      weightsWith((ts) => ts.filter((t) => t.name !== router)),
      W,
      router,
    );
    expect(message).toBe(
      `${W}: tensor '${router}': missing: module 'model.layers.0.mlp.gate_proj' has an incomplete tensor group ` +
        '(has mor_A.weight, mor_B.weight, mor_omega_A, mor_omega_B; lacks mor_router.weight)',
    );
  });

  it('refuses router bias tensors that disagree with router_bias', () => {
    const bias = tname('mlp.gate_proj', 'mor_router.bias');
    const withBias = weightsWith((ts) => [...ts, { name: bias, dtype: 'F32', shape: [4], data: f32(4) }]);
    expect(refusal(config, withBias, W, bias)).toBe(
      `${W}: tensor '${bias}': present, but router_bias is false in adapter_config.json`,
    );
    const needsBias = editedConfig(MOR_DIR, { router_bias: true });
    expect(refusal(needsBias, withBias, W, tname('mlp.down_proj', 'mor_router.bias'))).toContain(
      "missing: module 'model.layers.0.mlp.down_proj' has an incomplete tensor group (has mor_A.weight, mor_B.weight, mor_omega_A, mor_omega_B, mor_router.weight; lacks mor_router.bias) (router_bias is true)",
    );
  });

  it('reads router bias tensors when router_bias is true', () => {
    const withBiases = weightsWith((ts) => [
      ...ts,
      ...ts
        .filter((t) => t.name.endsWith('mor_A.weight'))
        .map((t) => ({
          name: t.name.replace('mor_A.weight', 'mor_router.bias'),
          dtype: 'F32' as const,
          shape: [4],
          data: f32(4, 0.25),
        })),
    ]);
    const adapter = parseAdapter(editedConfig(MOR_DIR, { router_bias: true }), withBiases) as MorAdapter;
    expect([...adapter.layers.values()].every((l) => l.routerBias?.every((v) => v === 0.25))).toBe(true);
  });

  it('refuses unknown tensor names, LoRA tensors, and names without the PEFT prefix', () => {
    const odd = tname('mlp.gate_proj', 'magnitude');
    const add = (name: string) =>
      weightsWith((ts) => [...ts, { name, dtype: 'F32', shape: [1], data: f32(1) }]);
    expect(refusal(config, add(odd), W, odd)).toBe(
      `${W}: tensor '${odd}': unknown tensor name: expected MODULE.{mor_A.weight,mor_B.weight,mor_omega_A,mor_omega_B,mor_router.weight,mor_router.bias} (not a MoR mor_*, MoELoRA moelora_* or LoRA lora_* tensor)`,
    );
    const lora = tname('self_attn.q_proj', 'lora_A.weight');
    expect(refusal(config, add(lora), W, lora)).toContain('a LoRA tensor in a MOR adapter');
    const a = tname('mlp.gate_proj', 'mor_A.weight');
    const bare = a.replace('base_model.model.', '');
    const renamed = weightsWith(replace(a, (t) => ({ ...t, name: bare })));
    expect(refusal(config, renamed, W, bare)).toContain("expected a name starting with 'base_model.model.'");
  });

  it('refuses a module that target_modules does not cover', () => {
    const narrowed = editedConfig(MOR_DIR, { target_modules: ['gate_proj', 'up_proj'] });
    expect(refusal(narrowed, fixtureWeights(MOR_DIR), W, tname('mlp.down_proj', 'mor_A.weight'))).toContain(
      `module 'model.layers.0.mlp.down_proj' is not covered by target_modules ["gate_proj","up_proj"]`,
    );
  });

  it('refuses NaN, +Inf and -Inf in any tensor (F32 and F16)', () => {
    for (const [bad, shown] of [
      [NaN, 'NaN'],
      [Infinity, 'Infinity'],
      [-Infinity, '-Infinity'],
    ] as const) {
      const values = f32(16);
      values[5] = bad;
      const weights = weightsWith(replace(GATE_OMEGA_A, (t) => ({ ...t, data: values })));
      expect(refusal(config, weights, W, GATE_OMEGA_A)).toBe(
        `${W}: tensor '${GATE_OMEGA_A}': non-finite value ${shown} at element 5 (NaN and ±Inf are refused)`,
      );
    }
    const b = tname('mlp.down_proj', 'mor_B.weight');
    const half = weightsWith((ts) =>
      ts.map((t) => ({
        ...t,
        dtype: 'F16' as const,
        data: t.name === b ? f32(256, 1e6) : f32(t.shape[0]! * t.shape[1]!),
      })),
    );
    expect(refusal(config, half, W, b)).toContain('non-finite value Infinity at element 0'); // 1e6 overflows F16
  });

  it('reads F16/BF16 adapters and reports their dtype; refuses non-float dtypes', () => {
    const half = weightsWith((ts) =>
      ts.map((t) => ({ ...t, dtype: 'BF16' as const, data: f32(t.shape[0]! * t.shape[1]!, 1.5) })),
    );
    const adapter = parseAdapter(config, half) as MorAdapter;
    expect(adapter.dtype).toBe('BF16');
    expect(adapter.layers.get('model.layers.0.mlp.up_proj')!.omegaB[7]).toBe(1.5);
    const ints = new TextEncoder().encode(
      '{"base_model.model.m.mor_A.weight":{"dtype":"I32","shape":[4,1],"data_offsets":[0,16]}}',
    );
    const bytes = new Uint8Array(8 + ints.length + 16);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(ints.length), true);
    bytes.set(ints, 8);
    const narrow = editedConfig(MOR_DIR, { target_modules: ['m'] });
    expect(refusal(narrow, bytes, W, 'base_model.model.m.mor_A.weight')).toContain(
      'dtype I32 is not an adapter dtype',
    );
  });

  it('refuses an unknown peft_type, a newer format_version, and a missing peft_type', () => {
    const weights = fixtureWeights(MOR_DIR);
    expect(refusal(editedConfig(MOR_DIR, { peft_type: 'IA3' }), weights, C)).toBe(
      'adapter_config.json: unknown peft_type "IA3" (this reader knows "MOR", "MOELORA" and "LORA")',
    );
    expect(refusal(editedConfig(MOR_DIR, { peft_type: undefined }), weights, C)).toContain(
      'unknown peft_type (missing)',
    );
    expect(refusal(editedConfig(MOR_DIR, { format_version: 2 }), weights, C)).toBe(
      'adapter_config.json: format_version 2 is newer than this reader (it knows up to 1); update @mor/format',
    );
    expect(refusal(editedConfig(MOR_DIR, { format_version: '1' }), weights, C)).toContain(
      'format_version: expected a positive integer',
    );
  });

  it('refuses invalid config values with the JSON key name, via core validation', () => {
    const weights = fixtureWeights(MOR_DIR);
    expect(refusal(editedConfig(MOR_DIR, { num_experts: 0 }), weights, C)).toBe(
      'adapter_config.json: invalid MoR config: num_experts: expected an integer ≥ 1, got 0',
    );
    expect(refusal(editedConfig(MOR_DIR, { top_k: 5 }), weights, C)).toContain(
      'invalid MoR config: top_k: 5 is larger than the number of experts (4)',
    );
    expect(refusal(editedConfig(MOR_DIR, { lora_dropout: 1 }), weights, C)).toContain('lora_dropout');
    expect(refusal(editedConfig(MOR_DIR, { static_gates: { chat: [0.5, 0.5] } }), weights, C)).toContain(
      'static_gates.chat: expected 4 finite numbers (num_experts), got [0.5,0.5]',
    );
    expect(refusal(editedConfig(MOR_DIR, { task_type: 3 }), weights, C)).toContain(
      'task_type: expected a string or null',
    );
  });

  it('names the file and line of a config that is not JSON', () => {
    const broken = config.replace('"r": 4,', '"r": 4,,');
    const message = refusal(broken, fixtureWeights(MOR_DIR), C);
    expect(message).toMatch(/^adapter_config\.json: not valid JSON/);
    expect(message).toMatch(/line 6/);
  });

  it('names files under options.dir, and lets safetensors errors through with that name', () => {
    expect(() => parseAdapter('{', fixtureWeights(MOR_DIR), { dir: 'my/adapter' })).toThrow(
      /^my\/adapter\/adapter_config\.json: /,
    );
    try {
      parseAdapter(config, new Uint8Array(3), { dir: 'my/adapter/' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SafetensorsError);
      expect((error as SafetensorsError).message).toBe(
        'my/adapter/adapter_model.safetensors: file is 3 bytes, too short to hold the 8-byte header length',
      );
    }
  });
});
