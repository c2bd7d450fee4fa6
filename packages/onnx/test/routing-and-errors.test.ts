import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  DataType,
  LayerMatchError,
  halfToFloat,
  applyAdapter,
  decodeModel,
  findLinearLayers,
  floatTensor,
  matchTargets,
  mergeStaticGate,
  tensorToFloat32,
  tensorValueInfo,
  type LinearLayer,
  type MorAdapterInput,
} from '../src/index.js';
import { fixtureBytes, maxAbsDiff, run } from './helpers/fixtures.js';
import { model, node, rand, randomMor, referenceMorDelta } from './helpers/synthetic.js';

const io = (name: string, dims: number[], t = DataType.FLOAT) => tensorValueInfo(name, t, dims);
const linear = (opset = 17) =>
  model(
    [node('MatMul', ['x', 'W'], ['y'], '/net/fc/MatMul')],
    [floatTensor('W', [8, 6], rand(48, 5, 0.5))],
    [io('x', [5, 8])],
    [io('y', [5, 6])],
    { '': opset },
  );

function adapter(topK: number | null, tie: boolean): MorAdapterInput {
  const w = randomMor(8, 6, 2, 4, false, 3);
  // Rows 1 and 2 of the router equal: their logits tie exactly for every token.
  if (tie) w.routerWeight.copyWithin(16, 8, 16);
  return {
    kind: 'mor',
    config: { r: 2, alpha: 4, experts: 4, topK, routerBias: false },
    layers: new Map([['net.fc', w]]),
  };
}

async function delta(m: ReturnType<typeof linear>, a: MorAdapterInput, x: Float32Array, opts = {}) {
  const feeds = { x: new ort.Tensor('float32', x, [5, 8]) };
  const base = (await run(m, feeds))['y']!.data as Float32Array;
  const res = applyAdapter(m, a, { exposeGates: true, ...opts });
  const out = await run(m, feeds);
  return {
    d: (out['y']!.data as Float32Array).map((v, i) => v - base[i]!),
    gates: out[res.gateOutputs[0]!]!,
  };
}

describe('routing', () => {
  const x = rand(40, 17, 1);
  it('top-k: softmax over the k largest logits, ties to the lower expert index', async () => {
    for (const k of [1, 2, 3]) {
      const a = adapter(k, true);
      const { d, gates } = await delta(linear(), a, x);
      expect(maxAbsDiff(d, referenceMorDelta(x, a.layers.get('net.fc')!, 2, { topK: k }))).toBeLessThan(1e-5);
      const g = gates.data as Float32Array;
      for (let t = 0; t < 5; t++) expect(g.subarray(4 * t, 4 * t + 4).filter((v) => v > 0).length).toBe(k);
    }
  });

  it('dense routing on an opset-11 model (Unsqueeze axes as attributes)', async () => {
    const a = adapter(null, false);
    const { d } = await delta(linear(11), a, x);
    expect(maxAbsDiff(d, referenceMorDelta(x, a.layers.get('net.fc')!, 2, { topK: null }))).toBeLessThan(
      1e-5,
    );
  });

  it('routing option overrides the config; static needs a gate of N values', async () => {
    const a = adapter(2, false);
    const { d } = await delta(linear(), a, x, { routing: 'dense' });
    expect(maxAbsDiff(d, referenceMorDelta(x, a.layers.get('net.fc')!, 2, { topK: null }))).toBeLessThan(
      1e-5,
    );
    expect(() => applyAdapter(linear(), a, { routing: 'static', gate: [1, 0] })).toThrow(/gate of 4 values/);
  });
});

describe('float16 layers', () => {
  const fp16Model = () => {
    const m = linear();
    m.graph!.initializer[0] = floatTensor('W', [8, 6], rand(48, 5, 0.5), DataType.FLOAT16);
    m.graph!.input[0] = io('x', [5, 8], DataType.FLOAT16);
    m.graph!.output[0] = io('y', [5, 6], DataType.FLOAT16);
    return m;
  };

  it('the branch runs in float32 between Casts; a merge keeps the weight fp16', async () => {
    const a = adapter(null, false);
    const layer = findLinearLayers(fp16Model())[0]!;
    expect(layer.dtype).toBe('float16');
    const gate = [0.25, 0.25, 0.25, 0.25];
    const merged = fp16Model();
    mergeStaticGate(merged, a, gate);
    expect(merged.graph!.initializer[0]!.dataType).toBe(DataType.FLOAT16);
    const w0 = tensorToFloat32(fp16Model().graph!.initializer[0]!);
    const w1 = tensorToFloat32(merged.graph!.initializer[0]!);
    expect(maxAbsDiff(w0, w1)).toBeGreaterThan(1e-3);
    const patched = fp16Model();
    applyAdapter(patched, a, { routing: 'static', gate });
    const x16 = new ort.Tensor('float16', new Uint16Array(40).fill(0x3c00), [5, 8]); // all ones
    const p = (await run(patched, { x: x16 }))['y']!.data as Uint16Array;
    const q = (await run(merged, { x: x16 }))['y']!.data as Uint16Array;
    expect(p.length).toBe(30);
    const half = (arr: Uint16Array) => Float32Array.from(arr, halfToFloat);
    expect(maxAbsDiff(half(p), half(q))).toBeLessThan(2e-2);
  });
});

describe('module name aliases', () => {
  const layer = (modulePath: string): LinearLayer => ({
    modulePath,
    kind: 'matmul',
    dIn: 4,
    dOut: 4,
    input: `${modulePath}.x`,
    output: `${modulePath}.y`,
    outputNode: modulePath,
    nodes: [modulePath],
    weight: `${modulePath}.w`,
    weightLayout: '[d_in,d_out]',
    shared: false,
    quantized: false,
    dtype: 'float32',
    alpha: 1,
  });

  it('maps Hugging Face self_attn modules to onnxruntime-genai builder attn layers', () => {
    const builder = [layer('model.layers.0.attn.q_proj'), layer('model.layers.0.mlp.up_proj')];
    const m = matchTargets(builder, [
      'model.layers.0.self_attn.q_proj',
      'base_model.model.model.layers.0.mlp.up_proj',
    ]);
    expect(m.get('model.layers.0.self_attn.q_proj')!.modulePath).toBe('model.layers.0.attn.q_proj');
    expect(() => matchTargets(builder, ['model.layers.0.self_attn.k_proj'])).toThrow(
      /matches no linear layer/,
    );
  });

  it('keeps a real match over an alias (GPT-2 attn, a graph with both spellings)', () => {
    const both = [layer('model.layers.0.self_attn.q_proj'), layer('model.layers.0.attn.q_proj')];
    expect(
      matchTargets(both, ['model.layers.0.self_attn.q_proj']).get('model.layers.0.self_attn.q_proj')!
        .modulePath,
    ).toBe('model.layers.0.self_attn.q_proj');
    const gpt2 = [layer('transformer.h.0.attn.c_attn')];
    expect(matchTargets(gpt2, ['transformer.h.0.attn.c_attn']).size).toBe(1);
  });
});

describe('matching errors', () => {
  it('names an adapter module that fits no layer', async () => {
    const layers = findLinearLayers(await decodeModel(fixtureBytes('tiny-llama/onnx/model.onnx')));
    expect(() => matchTargets(layers, ['model.layers.7.mlp.gate_proj'])).toThrow(LayerMatchError);
    expect(() => matchTargets(layers, ['model.layers.7.mlp.gate_proj'])).toThrow(
      /model\.layers\.7\.mlp\.gate_proj: matches no linear layer/,
    );
    expect(() => matchTargets(layers, ['gate_proj'])).toThrow(/gate_proj: matches several layers/);
  });

  it('names a module whose shape disagrees with its layer', async () => {
    const layers = findLinearLayers(await decodeModel(fixtureBytes('tiny-llama/onnx/model.onnx')));
    expect(() =>
      matchTargets(layers, new Map([['model.layers.0.mlp.down_proj', { dIn: 64, dOut: 128 }]])),
    ).toThrow(
      /model\.layers\.0\.mlp\.down_proj: adapter expects d_in 64, d_out 128; layer .* has d_in 128, d_out 64/,
    );
    const bad: MorAdapterInput = {
      kind: 'mor',
      config: { r: 2, alpha: 4, experts: 4, topK: null, routerBias: false },
      layers: new Map([['net.fc', randomMor(6, 8, 2, 4, false, 1)]]),
    };
    expect(() => applyAdapter(linear(), bad)).toThrow(/net\.fc: adapter expects d_in 6/);
    expect(() => mergeStaticGate(linear(), bad, [1, 0, 0, 0])).toThrow(LayerMatchError);
  });
});
