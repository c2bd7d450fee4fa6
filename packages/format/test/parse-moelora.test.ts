// MoELoRA adapters (peft_type "MOELORA", adapter-format.md): round trip through the documented tensor names, and
// every refusal naming the file, the tensor and what is wrong, as for MoR.
import { initMoeLoraLayer, createRng, moeLoraParamCount, type MoeLoraLayerWeights } from '@mor/core';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderModelCard } from '../src/hub/index.js';
import { loadAdapter, saveAdapter } from '../src/node/index.js';
import {
  AdapterFormatError,
  adapterParameterCount,
  createMoeLoraAdapter,
  parseAdapter,
  parseSafetensors,
  serializeAdapter,
  serializeSafetensors,
  validateAdapterAgainstModel,
  type MoeLoraAdapter,
  type TensorToWrite,
} from '../src/index.js';
import { MOR_DIR, fixtureConfig, fixtureWeights } from './helpers.js';

const W = 'adapter_model.safetensors';
const C = 'adapter_config.json';
const [R, N] = [2, 3];
const MODULES: Array<[string, number, number]> = [
  ['model.layers.0.self_attn.q_proj', 6, 4],
  ['model.layers.0.mlp.down_proj', 5, 6],
];
const name = (module: string, suffix: string) => `base_model.model.${module}.${suffix}`;

/** A MoELoRA adapter with every tensor non-zero (B initialised to zeros is overwritten), so a mix-up shows. */
function makeAdapter(routerBias = false): MoeLoraAdapter {
  const rng = createRng(7);
  const layers = new Map<string, MoeLoraLayerWeights>();
  for (const [module, dIn, dOut] of MODULES) {
    const layer = initMoeLoraLayer({ dIn, dOut, config: { r: R, experts: N, routerBias }, rng });
    layers.set(module, { ...layer, B: rng.fillUniform(new Float32Array(N * dOut * R), -1, 1) });
  }
  return createMoeLoraAdapter({
    config: {
      r: R,
      alpha: 4,
      experts: N,
      topK: 2,
      routerBias,
      dropout: 0.05,
      targets: ['q_proj', 'down_proj'],
      routerAuxLossCoef: 0.01,
    },
    layers,
    baseModel: 'tiny',
  });
}

const files = makeAdapter();
const { configJson, safetensors } = serializeAdapter(files);
const tensors = (): TensorToWrite[] =>
  [...parseSafetensors(safetensors).tensors.values()].map((t) => ({
    name: t.name,
    dtype: 'F32' as const,
    shape: t.shape,
    data: t.data,
  }));
const weightsWith = (edit: (ts: TensorToWrite[]) => TensorToWrite[]) =>
  serializeSafetensors(edit(tensors()), { format: 'pt' });
const configWith = (patch: Record<string, unknown>) => {
  const c = JSON.parse(configJson) as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete c[k];
    else c[k] = v;
  }
  return JSON.stringify(c);
};

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

describe('MoELoRA adapters: format', () => {
  it('writes the documented config keys and one PEFT-shaped lora_A/lora_B pair per expert, plus the router', () => {
    expect(JSON.parse(configJson)).toEqual({
      peft_type: 'MOELORA',
      format_version: 1,
      task_type: 'CAUSAL_LM',
      base_model_name_or_path: 'tiny',
      r: R,
      lora_alpha: 4,
      num_experts: N,
      top_k: 2,
      router_bias: false,
      lora_dropout: 0.05,
      target_modules: ['q_proj', 'down_proj'],
      router_aux_loss_coef: 0.01,
    });
    const file = parseSafetensors(safetensors);
    const q = MODULES[0]![0];
    expect(
      [...file.tensors.values()].filter((t) => t.name.includes(q)).map((t) => [t.name, t.shape]),
    ).toEqual([
      [name(q, 'moelora_A.0.weight'), [R, 6]],
      [name(q, 'moelora_A.1.weight'), [R, 6]],
      [name(q, 'moelora_A.2.weight'), [R, 6]],
      [name(q, 'moelora_B.0.weight'), [4, R]],
      [name(q, 'moelora_B.1.weight'), [4, R]],
      [name(q, 'moelora_B.2.weight'), [4, R]],
      [name(q, 'moelora_router.weight'), [N, 6]],
    ]);
    // Expert 1's B is rows 1·d_out … of the stacked [N, d_out, r] array.
    const layer = files.layers.get(q)!;
    const b1 = file.tensors.get(name(q, 'moelora_B.1.weight'))!;
    expect(new Float32Array(b1.data.slice().buffer)).toEqual(layer.B.slice(4 * R, 2 * 4 * R));
  });

  it('round-trips: parse gives the same layers, and writing again gives the same bytes', () => {
    for (const bias of [false, true]) {
      const adapter = makeAdapter(bias);
      const out = serializeAdapter(adapter);
      const back = parseAdapter(out.configJson, out.safetensors) as MoeLoraAdapter;
      expect(back.kind).toBe('moelora');
      expect(back.config).toEqual(adapter.config);
      for (const [module, layer] of adapter.layers) expect(back.layers.get(module)).toEqual(layer);
      const again = serializeAdapter(back);
      expect(again.safetensors).toEqual(out.safetensors);
      expect(again.configJson).toBe(out.configJson);
    }
  });

  it('saves and loads a directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moelora-'));
    await saveAdapter(dir, files);
    expect(JSON.parse(readFileSync(join(dir, C), 'utf8'))['peft_type']).toBe('MOELORA');
    const loaded = (await loadAdapter(dir)) as MoeLoraAdapter;
    expect(loaded.layers.get(MODULES[1]![0])).toEqual(files.layers.get(MODULES[1]![0]));
  });

  it('counts N·r·(d_in + d_out) + N·d_in (+ N) parameters a layer, as @mor/core does', () => {
    for (const routerBias of [false, true]) {
      const expected = MODULES.reduce(
        (sum, [, dIn, dOut]) => sum + moeLoraParamCount({ dIn, dOut }, { r: R, experts: N, routerBias }),
        0,
      );
      expect(adapterParameterCount(makeAdapter(routerBias))).toBe(expected);
      expect(expected).toBe(routerBias ? 3 * 2 * 10 + 18 + 3 + (3 * 2 * 11 + 15 + 3) : 60 + 18 + 66 + 15);
    }
  });

  it('refuses an expert shape that disagrees with r, with expert 0, or has the wrong rank', () => {
    const [q] = MODULES[0]!;
    const a1 = name(q, 'moelora_A.1.weight');
    const reshape = (n: string, shape: number[]) =>
      weightsWith((ts) =>
        ts.map((t) =>
          t.name === n ? { ...t, shape, data: new Float32Array(shape.reduce((a, b) => a * b)) } : t,
        ),
      );
    expect(refusal(configJson, reshape(a1, [3, 6]), W, a1)).toBe(
      `${W}: tensor '${a1}': shape [3,6] disagrees with r 2`,
    );
    expect(refusal(configJson, reshape(a1, [2, 5]), W, a1)).toBe(
      `${W}: tensor '${a1}': shape [2,5] disagrees with d_in (columns of moelora_A.0.weight) 6`,
    );
    const b2 = name(q, 'moelora_B.2.weight');
    expect(refusal(configJson, reshape(b2, [5, 2]), W, b2)).toContain(
      'shape [5,2] disagrees with d_out (rows of moelora_B.0.weight) 4',
    );
    expect(refusal(configJson, reshape(b2, [8]), W, b2)).toContain(
      'shape [8] should have 2 dimensions [d_out (rows of moelora_B.0.weight), r]',
    );
    const router = name(q, 'moelora_router.weight');
    expect(refusal(configJson, reshape(router, [2, 6]), W, router)).toContain(
      'shape [2,6] disagrees with num_experts 3',
    );
  });

  it('refuses a missing expert, an expert index past num_experts, and router bias that disagrees with router_bias', () => {
    const [, down] = [MODULES[0]![0], MODULES[1]![0]];
    const b1 = name(down, 'moelora_B.1.weight');
    expect(
      refusal(
        configJson,
        weightsWith((ts) => ts.filter((t) => t.name !== b1)),
        W,
        b1,
      ),
    ).toBe(
      `${W}: tensor '${b1}': missing: module '${down}' has an incomplete tensor group (has moelora_A.0.weight, ` +
        'moelora_A.1.weight, moelora_A.2.weight, moelora_B.0.weight, moelora_B.2.weight, moelora_router.weight; lacks moelora_B.1.weight)',
    );
    const a3 = name(down, 'moelora_A.3.weight');
    const extra = weightsWith((ts) => [
      ...ts,
      { name: a3, dtype: 'F32', shape: [R, 5], data: new Float32Array(R * 5) },
    ]);
    expect(refusal(configJson, extra, W, a3)).toBe(
      `${W}: tensor '${a3}': expert index 3 is out of range: num_experts is 3 in adapter_config.json (experts 0 … 2)`,
    );
    const bias = name(down, 'moelora_router.bias');
    const withBias = weightsWith((ts) => [
      ...ts,
      { name: bias, dtype: 'F32', shape: [N], data: new Float32Array(N) },
    ]);
    expect(refusal(configJson, withBias, W, bias)).toBe(
      `${W}: tensor '${bias}': present, but router_bias is false in adapter_config.json`,
    );
    const q = MODULES[0]![0];
    expect(refusal(configWith({ router_bias: true }), withBias, W, name(q, 'moelora_router.bias'))).toContain(
      '(router_bias is true)',
    );
  });

  it('refuses tensors of another kind, unknown names and non-canonical expert indices', () => {
    const q = MODULES[0]![0];
    const add = (n: string) =>
      weightsWith((ts) => [...ts, { name: n, dtype: 'F32', shape: [1], data: new Float32Array(1) }]);
    for (const [suffix, kind] of [
      ['mor_omega_A', 'MoR'],
      ['lora_A.weight', 'LoRA'],
    ]) {
      expect(refusal(configJson, add(name(q, suffix!)), W, name(q, suffix!))).toBe(
        `${W}: tensor '${name(q, suffix!)}': a ${kind} tensor in a MOELORA adapter (see peft_type in adapter_config.json)`,
      );
    }
    expect(refusal(configJson, add(name(q, 'moelora_A.01.weight')), W, name(q, 'moelora_A.01.weight'))).toBe(
      `${W}: tensor '${name(q, 'moelora_A.01.weight')}': unknown tensor name: expected MODULE.{moelora_A.{i}.weight,moelora_B.{i}.weight,moelora_router.weight,moelora_router.bias} (not a MoR mor_*, MoELoRA moelora_* or LoRA lora_* tensor)`,
    );
    // And the other way round: a MoELoRA tensor in the MoR fixture.
    const morWeights = serializeSafetensors(
      [
        ...[...parseSafetensors(fixtureWeights(MOR_DIR)).tensors.values()].map((t) => ({
          name: t.name,
          dtype: 'F32' as const,
          shape: t.shape,
          data: t.data,
        })),
        { name: name(q, 'moelora_A.0.weight'), dtype: 'F32', shape: [1], data: new Float32Array(1) },
      ],
      { format: 'pt' },
    );
    expect(refusal(fixtureConfig(MOR_DIR), morWeights, W, name(q, 'moelora_A.0.weight'))).toContain(
      'a MoELoRA tensor in a MOR adapter',
    );
  });

  it('refuses bad config values with the JSON key, static_gates, and non-finite values', () => {
    expect(refusal(configWith({ num_experts: 0 }), safetensors, C)).toBe(
      `${C}: invalid MoELoRA config: num_experts: expected an integer ≥ 1, got 0`,
    );
    expect(refusal(configWith({ top_k: 4 }), safetensors, C)).toContain(
      'invalid MoELoRA config: top_k: 4 is larger than the number of experts (3)',
    );
    expect(refusal(configWith({ static_gates: { a: [1, 0, 0] } }), safetensors, C)).toBe(
      `${C}: static_gates: a MoELoRA adapter has no static gates (its router is part of the adapter)`,
    );
    expect(refusal(configWith({ format_version: 2 }), safetensors, C)).toContain('format_version 2 is newer');
    expect(
      refusal(
        configWith({ target_modules: ['q_proj'] }),
        safetensors,
        W,
        name(MODULES[1]![0], 'moelora_A.0.weight'),
      ),
    ).toContain(`module '${MODULES[1]![0]}' is not covered by target_modules ["q_proj"]`);
    const a2 = name(MODULES[0]![0], 'moelora_A.2.weight');
    const bad = weightsWith((ts) =>
      ts.map((t) =>
        t.name === a2 ? { ...t, data: Float32Array.from({ length: 12 }, (_, i) => (i === 7 ? NaN : 0)) } : t,
      ),
    );
    expect(refusal(configJson, bad, W, a2)).toBe(
      `${W}: tensor '${a2}': non-finite value NaN at element 7 (NaN and ±Inf are refused)`,
    );
  });

  it('refuses, on writing, a layer whose experts disagree with the config', () => {
    const [q] = MODULES[0]!;
    const layer = files.layers.get(q)!;
    const short = { ...files, layers: new Map([[q, { ...layer, A: layer.A.subarray(1) }]]) };
    expect(() => serializeAdapter(short)).toThrow(/layer has 35 A values; 3 experts of 12 need 36/);
    const wrongN = { ...files, config: { ...files.config, experts: 2, topK: null } };
    expect(() => serializeAdapter(wrongN)).toThrow(
      /layer has r 2, 3 experts, router bias false; the config says r 2, num_experts 2/,
    );
  });

  it('validates against a base model, naming expert 0 when d_in or d_out disagree', () => {
    const [q, dIn, dOut] = MODULES[0]!;
    const [down, dIn2, dOut2] = MODULES[1]!;
    const base = new Map([
      [q, { dIn, dOut }],
      [down, { dIn: dIn2, dOut: dOut2 }],
    ]);
    expect(() => validateAdapterAgainstModel(files, base)).not.toThrow();
    const wrong = new Map(base).set(q, { dIn, dOut: dOut + 1 });
    expect(() => validateAdapterAgainstModel(files, wrong)).toThrow(
      `${W}: tensor '${name(q, 'moelora_B.0.weight')}': shape [4,2] disagrees with the base layer: d_out 4, the model's '${q}' gives 5`,
    );
  });

  it('describes itself on a model card', () => {
    const card = renderModelCard(files, { repo: 'me/moe' });
    expect(card).toContain('A MoELoRA (mixture of LoRA experts) adapter');
    expect(card).toContain('| type | MoELoRA (`peft_type: "MOELORA"`) |');
    expect(card).toContain('| rank r (each expert) | 2 |');
    expect(card).toContain('| routing | top-2 of 3 experts |');
    expect(card).toContain(`| trainable parameters | ${adapterParameterCount(files)} |`);
  });
});
