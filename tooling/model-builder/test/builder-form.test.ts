import { AutoModelForCausalLM, AutoTokenizer } from '@huggingface/transformers';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildLlama,
  buildLlamaBuilderForm,
  buildQwen2,
  buildQwen2BuilderForm,
  type BuiltModel,
  q4Twin,
} from '../src/index.js';
import { decode, decoderForward, installModel, maxAbsDiff, tempModelRoot } from './helpers.js';

// The builder form (onnxruntime-genai's model builder: GroupQueryAttention, SkipSimplifiedLayerNormalization,
// MatMulNBits, GatherBlockQuantized) against the TorchScript form of the same weights, in onnxruntime-node CPU.

const prompt = [[1, 40, 41, 42, 43, 44, 45]];
const ones = (n: number) => [Array.from({ length: n }, () => 1)];

/** Prefill logits and one decode step (KV cache) of two graphs; the max abs differences. */
async function prefillAndDecode(a: BuiltModel, b: BuiltModel): Promise<[number, number, number]> {
  const [sa, sb] = [await ort.InferenceSession.create(a.onnx), await ort.InferenceSession.create(b.onnx)];
  const n = prompt[0]!.length;
  const [pa, pb] = [
    await decoderForward(sa, a, prompt, ones(n)),
    await decoderForward(sb, b, prompt, ones(n)),
  ];
  const [da, db] = [
    await decoderForward(sa, a, [[50]], ones(n + 1), pa.presents),
    await decoderForward(sb, b, [[50]], ones(n + 1), pb.presents),
  ];
  const present = maxAbsDiff(
    da.presents['present.1.value']!.data as Float32Array,
    db.presents['present.1.value']!.data as Float32Array,
  );
  await Promise.all([sa.release(), sb.release()]);
  return [maxAbsDiff(pa.logits, pb.logits), maxAbsDiff(da.logits, db.logits), present];
}

describe('builder form graph', () => {
  const built = buildLlamaBuilderForm();
  const model = decode(built);
  const g = model.graph!;
  const nodes = new Map(g.node.map((n) => [n.name, n]));
  const inits = new Map(g.initializer.map((t) => [t.name, t]));

  it('is opset 21 + com.microsoft, IR 10, with the builder’s input and output order', () => {
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([
      ['', 21],
      ['com.microsoft', 1],
    ]);
    expect(model.irVersion).toBe(10n);
    expect(model.producerName).toBe('onnxruntime-genai');
    expect(g.input.map((i) => i.name)).toEqual([
      'input_ids',
      'attention_mask',
      'past_key_values.0.key',
      'past_key_values.1.key',
      'past_key_values.0.value',
      'past_key_values.1.value',
    ]);
    expect(g.output.map((o) => o.name)).toEqual([
      'logits',
      'present.0.key',
      'present.1.key',
      'present.0.value',
      'present.1.value',
    ]);
  });

  it('names linears /model/layers.N/attn/q_proj/MatMul with <node path>.weight [d_in, d_out]', () => {
    const q = nodes.get('/model/layers.0/attn/q_proj/MatMul')!;
    expect(q.input[1]).toBe('model.layers.0.attn.q_proj.MatMul.weight');
    expect(inits.get(q.input[1]!)!.dims.map(Number)).toEqual([64, 64]);
    expect(nodes.get('/model/layers.1/mlp/down_proj/MatMul')!.input[1]).toBe(
      'model.layers.1.mlp.down_proj.MatMul.weight',
    );
    expect(nodes.get('/lm_head/MatMul')!.output).toEqual(['logits']);
    expect(built.linears.map((l) => l.module)).toContain('model.layers.0.self_attn.q_proj');
    expect(built.linears.length).toBe(15);
  });

  it('chains SimplifiedLayerNorm → SkipSimplifiedLayerNorm (output 3 = residual) into GQA with rotary inside', () => {
    expect(nodes.get('/model/layers.0/input_layernorm/LayerNorm')!.opType).toBe(
      'SimplifiedLayerNormalization',
    );
    const post = nodes.get('/model/layers.0/post_attention_layernorm/SkipLayerNorm')!;
    expect([post.opType, post.domain]).toEqual(['SkipSimplifiedLayerNormalization', 'com.microsoft']);
    expect(post.input[0]).toBe('/model/embed_tokens/Gather/output_0');
    expect(post.output[3]).toBe('/model/layers.0/post_attention_layernorm/output_3');
    expect(nodes.get('/model/layers.1/input_layernorm/SkipLayerNorm')!.input[0]).toBe(post.output[3]);
    expect(nodes.get('/model/layers.2/final_norm_layernorm/SkipLayerNorm')!.output).toHaveLength(1);
    const gqa = nodes.get('/model/layers.0/attn/GroupQueryAttention')!;
    expect(gqa.input.slice(5)).toEqual([
      '/model/attn_mask_reformat/attn_mask_subgraph/Sub/Cast/output_0',
      '/model/attn_mask_reformat/attn_mask_subgraph/Gather/Cast/output_0',
      'cos_cache',
      'sin_cache',
    ]);
    expect(gqa.output).toEqual([
      '/model/layers.0/attn/GroupQueryAttention/output_0',
      'present.0.key',
      'present.0.value',
    ]);
    expect(Number(gqa.attribute.find((a) => a.name === 'do_rotary')!.i)).toBe(1);
  });

  it('with separate rotary: RotaryEmbedding on q and k, position_ids input, do_rotary 0', () => {
    const sep = decode(buildLlamaBuilderForm({ rotary: 'separate' })).graph!;
    expect(sep.input.map((i) => i.name).slice(0, 3)).toEqual(['input_ids', 'attention_mask', 'position_ids']);
    const rope = sep.node.filter((n) => n.opType === 'RotaryEmbedding').map((n) => n.name);
    expect(rope.slice(0, 2)).toEqual([
      '/model/layers.0/attn/q_rotary/RotaryEmbedding',
      '/model/layers.0/attn/k_rotary/RotaryEmbedding',
    ]);
    const gqa = sep.node.find((n) => n.opType === 'GroupQueryAttention')!;
    expect(gqa.input).toHaveLength(7);
  });

  it('ties a Qwen2 lm_head: the embedding Gathers from Transpose(lm_head.MatMul.weight); q/k/v carry Add biases', () => {
    const qg = decode(buildQwen2BuilderForm()).graph!;
    const t = qg.node.find((n) => n.name === '/model/embed_tokens/Transpose')!;
    expect(t.input).toEqual(['lm_head.MatMul.weight']);
    expect(qg.initializer.some((i) => i.name === 'model.embed_tokens.weight')).toBe(false);
    const add = qg.node.find((n) => n.name === '/model/layers.0/attn/q_proj/Add')!;
    expect(add.input[1]).toBe('model.layers.0.attn.q_proj.Add.bias');
  });
});

describe('builder form equals the TorchScript form of the same weights (onnxruntime CPU)', () => {
  const cases = [
    ['llama', 'in-attention', buildLlama, buildLlamaBuilderForm],
    ['llama', 'separate', buildLlama, buildLlamaBuilderForm],
    ['qwen2 (tied)', 'in-attention', buildQwen2, buildQwen2BuilderForm],
  ] as const;
  it.each(cases)(
    '%s, rotary %s: prefill and one cached decode step within 1e-4',
    async (_a, rotary, ts, bf) => {
      const [prefill, step, present] = await prefillAndDecode(ts({ seed: 7 }), bf({ seed: 7, rotary }));
      expect(prefill).toBeLessThan(1e-4);
      expect(step).toBeLessThan(1e-4);
      expect(present).toBeLessThan(1e-4);
    },
  );
});

describe('q4 builder form (MatMulNBits, GatherBlockQuantized)', () => {
  it.each([
    ['llama, own embedding table', buildLlamaBuilderForm],
    ['qwen2, embedding read from the tied q4 lm_head', buildQwen2BuilderForm],
  ] as const)(
    '%s: logits equal the dequantized fp32 twin’s within 1e-4 (accuracy_level 0)',
    async (_l, bf) => {
      const q4 = bf({ seed: 5, quantize: 'q4', accuracyLevel: 0 });
      const ops = decode(q4).graph!.node.map((n) => n.opType);
      expect(ops.filter((o) => o === 'MatMulNBits')).toHaveLength(15);
      expect(ops.filter((o) => o === 'GatherBlockQuantized')).toHaveLength(1);
      const twin = { ...q4, onnx: q4Twin(q4.onnx) };
      expect(
        decode(twin).graph!.node.some(
          (n) =>
            n.domain === 'com.microsoft' &&
            n.opType !== 'GroupQueryAttention' &&
            !n.opType.startsWith('Skip'),
        ),
      ).toBe(false);
      const [prefill, step] = await prefillAndDecode(q4, twin);
      expect(prefill).toBeLessThan(1e-4);
      expect(step).toBeLessThan(1e-4);
      // And the quantization is real: the twin is not the fp32 model.
      const [vsFp32] = await prefillAndDecode(q4, bf({ seed: 5 }));
      expect(vsFp32).toBeGreaterThan(1e-2);
    },
  );
});

describe('transformers.js loads the builder-form directory', () => {
  const { root, dispose } = tempModelRoot();
  afterAll(dispose);
  it('greedy generate() with the KV cache gives the TorchScript form’s tokens', async () => {
    const tokens: number[][] = [];
    for (const [name, built] of [
      ['ts', buildLlama({ seed: 9 })],
      ['builder', buildLlamaBuilderForm({ seed: 9 })],
    ] as const) {
      await installModel(root, name, built);
      const tokenizer = await AutoTokenizer.from_pretrained(name);
      const model = await AutoModelForCausalLM.from_pretrained(name, { dtype: 'fp32' });
      const out = await model.generate({ ...tokenizer('the cat'), max_new_tokens: 8, do_sample: false });
      tokens.push((out as unknown as { tolist(): bigint[][] }).tolist()[0]!.map(Number));
      await model.dispose();
    }
    expect(tokens[1]).toEqual(tokens[0]);
    expect(tokens[0]!.length).toBeGreaterThan(8);
  });
});
