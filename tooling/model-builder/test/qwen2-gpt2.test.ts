import { describe, expect, it } from 'vitest';
import { buildGpt2, buildQwen2, ModelSpecError } from '../src/index.js';
import { decode } from './helpers.js';

function floats(t: { rawData: Uint8Array }): Float32Array {
  return new Float32Array(t.rawData.slice().buffer);
}

describe('buildQwen2 graph form', () => {
  const built = buildQwen2({ hidden: 32, heads: 4, kvHeads: 2 });
  const g = decode(built).graph!;
  const nodes = new Map(g.node.map((n) => [n.name, n]));
  const inits = new Map(g.initializer.map((t) => [t.name, t]));

  it('adds q/k/v biases after the MatMul and none elsewhere', () => {
    for (const p of ['q_proj', 'k_proj', 'v_proj']) {
      const mm = nodes.get(`/model/layers.0/self_attn/${p}/MatMul`)!;
      expect(nodes.get(`/model/layers.0/self_attn/${p}/Add`)!.input).toEqual([
        `model.layers.0.self_attn.${p}.bias`,
        mm.output[0],
      ]);
    }
    expect(nodes.has('/model/layers.0/self_attn/o_proj/Add')).toBe(false);
    expect(nodes.has('/model/layers.0/mlp/gate_proj/Add')).toBe(false);
    expect(inits.get('model.layers.1.self_attn.k_proj.bias')!.dims.map(Number)).toEqual([16]);
  });

  it('ties lm_head to the embedding: the MatMul weight is the Gather table transposed', () => {
    const table = inits.get('model.embed_tokens.weight')!;
    const head = inits.get(nodes.get('/lm_head/MatMul')!.input[1]!)!;
    expect(table.dims.map(Number)).toEqual([384, 32]);
    expect(head.dims.map(Number)).toEqual([32, 384]);
    const [e, w] = [floats(table), floats(head)];
    for (const [v, h] of [
      [0, 0],
      [5, 31],
      [383, 7],
    ] as const)
      expect(w[h * 384 + v]).toBe(e[v * 32 + h]);
    expect(built.config.tie_word_embeddings).toBe(true);
  });
});

describe('buildGpt2 graph form', () => {
  const built = buildGpt2({ seed: 1 });
  const g = decode(built).graph!;
  const nodes = new Map(g.node.map((n) => [n.name, n]));
  const inits = new Map(g.initializer.map((t) => [t.name, t]));

  it('exports Conv1D as MatMul on the module weight [d_in, d_out] plus a bias Add', () => {
    const shapes = {
      'attn/c_attn': [64, 192],
      'attn/c_proj': [64, 64],
      'mlp/c_fc': [64, 256],
      'mlp/c_proj': [256, 64],
    };
    for (const [p, dims] of Object.entries(shapes)) {
      const mm = nodes.get(`/transformer/h.1/${p}/MatMul`)!;
      const module = `transformer.h.1.${p.replace('/', '.')}`;
      expect(mm.input[1]).toBe(`${module}.weight`);
      expect(inits.get(`${module}.weight`)!.dims.map(Number)).toEqual(dims);
      expect(nodes.get(`/transformer/h.1/${p}/Add`)!.input).toEqual([`${module}.bias`, mm.output[0]]);
    }
    const split = nodes.get('/transformer/h.0/attn/Split')!;
    expect(split.input[0]).toBe('/transformer/h.0/attn/c_attn/Add_output_0');
    expect(split.output.length).toBe(3);
  });

  it('uses LayerNormalization, tanh-gelu, learned positions and a tied lm_head', () => {
    expect(nodes.get('/transformer/h.0/ln_1/LayerNormalization')?.input.slice(1)).toEqual([
      'transformer.h.0.ln_1.weight',
      'transformer.h.0.ln_1.bias',
    ]);
    expect(nodes.get('/transformer/h.0/mlp/act/Tanh')?.opType).toBe('Tanh');
    expect(nodes.get('/transformer/wpe/Gather')!.input).toEqual(['transformer.wpe.weight', 'position_ids']);
    const head = inits.get(nodes.get('/lm_head/MatMul')!.input[1]!)!;
    const table = inits.get('transformer.wte.weight')!;
    expect(floats(head)[3 * 384 + 10]).toBe(floats(table)[10 * 64 + 3]);
    expect(built.config).toMatchObject({ model_type: 'gpt2', n_embd: 64, n_head: 4, n_layer: 2 });
  });

  it('can export Conv1D as Reshape/Gemm/Reshape, and refuses to quantize that form', () => {
    const gemm = buildGpt2({ conv1dForm: 'gemm' });
    const gn = new Map(decode(gemm).graph!.node.map((n) => [n.name, n]));
    expect(gn.get('/transformer/h.0/attn/c_attn/Gemm')!.input).toEqual([
      '/transformer/h.0/attn/c_attn/Reshape_output_0',
      'transformer.h.0.attn.c_attn.weight',
      'transformer.h.0.attn.c_attn.bias',
    ]);
    expect(gemm.linears.filter((l) => l.form === 'gemm').length).toBe(8);
    expect(() => buildGpt2({ conv1dForm: 'gemm', quantize: 'matmulnbits' })).toThrow(ModelSpecError);
  });
});
