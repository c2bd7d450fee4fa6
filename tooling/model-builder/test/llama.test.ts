import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildLlama, ModelSpecError } from '../src/index.js';
import { decode, decoderForward, maxAbsDiff } from './helpers.js';

describe('buildLlama graph form', () => {
  const built = buildLlama();
  const model = decode(built);
  const g = model.graph!;
  const nodes = new Map(g.node.map((n) => [n.name, n]));
  const inits = new Map(g.initializer.map((t) => [t.name, t]));

  it('is an opset-17 TorchScript-style export', () => {
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    expect(model.irVersion).toBe(8n);
    expect(g.input.map((i) => i.name)).toEqual([
      'input_ids',
      'attention_mask',
      'position_ids',
      'past_key_values.0.key',
      'past_key_values.0.value',
      'past_key_values.1.key',
      'past_key_values.1.value',
    ]);
    const idType = g.input[0]!.type!.value.value as { elemType: number };
    expect(idType.elemType).toBe(7);
  });

  it('names linears by module path with transposed onnx::MatMul_N weights and no biases', () => {
    const shapes: Record<string, [number, number]> = {
      'self_attn/q_proj': [64, 64],
      'self_attn/k_proj': [64, 32],
      'self_attn/v_proj': [64, 32],
      'self_attn/o_proj': [64, 64],
      'mlp/gate_proj': [64, 128],
      'mlp/up_proj': [64, 128],
      'mlp/down_proj': [128, 64],
    };
    for (const layer of [0, 1]) {
      for (const [path, dims] of Object.entries(shapes)) {
        const node = nodes.get(`/model/layers.${layer}/${path}/MatMul`);
        expect(node?.opType).toBe('MatMul');
        const w = node!.input[1]!;
        expect(w).toMatch(/^onnx::MatMul_\d+$/);
        expect(inits.get(w)!.dims.map(Number)).toEqual(dims);
      }
    }
    expect(nodes.get('/lm_head/MatMul')!.output).toEqual(['logits']);
    expect(built.linears.map((l) => l.module)).toContain('model.layers.1.mlp.down_proj');
    expect(built.linears.every((l) => l.form === 'matmul' && l.bias === undefined)).toBe(true);
    expect(built.linears.length).toBe(2 * 7 + 1);
  });

  it('decomposes RMSNorm as Cast/Pow/ReduceMean/Add/Sqrt/Div/Mul/Cast/Mul and dedupes the all-ones weights', () => {
    const ops = g.node.filter(
      (n) => n.name.startsWith('/model/layers.0/input_layernorm/') && n.opType !== 'Constant',
    );
    expect(ops.map((n) => n.opType)).toEqual([
      'Cast',
      'Pow',
      'ReduceMean',
      'Add',
      'Sqrt',
      'Div',
      'Mul',
      'Cast',
      'Mul',
    ]);
    const normInits = g.initializer.filter(
      (t) => t.name.endsWith('layernorm.weight') || t.name === 'model.norm.weight',
    );
    expect(normInits.map((t) => t.name)).toEqual(['model.layers.0.input_layernorm.weight']);
    const identities = g.node.filter((n) => n.opType === 'Identity');
    expect(identities.map((n) => n.output[0]).sort()).toEqual([
      'model.layers.0.post_attention_layernorm.weight',
      'model.layers.1.input_layernorm.weight',
      'model.layers.1.post_attention_layernorm.weight',
      'model.norm.weight',
    ]);
    // The residual branches from the norm's entry Cast, as in the fixture export.
    expect(nodes.get('/model/layers.0/Add')!.input[0]).toBe('/model/layers.0/input_layernorm/Cast_output_0');
  });

  it('builds the cache-free training form with the same weights', async () => {
    const plain = buildLlama({ withoutKvCache: true });
    expect(plain.inputNames).toEqual(['input_ids', 'attention_mask']);
    expect(plain.outputNames).toEqual(['logits']);
    expect(plain.cache).toBeUndefined();
    const ids = [[1, 40, 41, 42, 43, 44]];
    const mask = [[1, 1, 1, 1, 1, 1]];
    const a = await ort.InferenceSession.create(built.onnx);
    const b = await ort.InferenceSession.create(plain.onnx);
    const withKv = await decoderForward(a, built, ids, mask);
    const noKv = await decoderForward(b, plain, ids, mask);
    expect(noKv.dims).toEqual([1, 6, 384]);
    expect(maxAbsDiff(withKv.logits, noKv.logits)).toBeLessThan(1e-5);
  });

  it('refuses inconsistent sizes with a ModelSpecError', () => {
    expect(() => buildLlama({ vocab: 100 })).toThrow(ModelSpecError);
    expect(() => buildLlama({ heads: 4, kvHeads: 3 })).toThrow(/kvHeads/);
    expect(() => buildLlama({ hidden: 60, heads: 4 })).toThrow(/even size/);
  });
});
