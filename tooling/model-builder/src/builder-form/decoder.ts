import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { buildLlama } from '../llama.js';
import { DType, ModelSpecError, createModelGraph } from '../model-graph.js';
import { buildQwen2 } from '../qwen2.js';
import type { RotaryDecoderOptions } from '../rotary-decoder.js';
import type { BuiltModel, LinearInfo } from '../types.js';
import { BuilderNodes } from './nodes.js';
import { Q4_BLOCK, quantizeRowsQ4 } from './quantize-q4.js';
import { twinWeights, type TwinLinear } from './twin-weights.js';

/**
 * Where RoPE is applied: inside `GroupQueryAttention` (`do_rotary` 1 with `cos_cache`/`sin_cache`, no
 * `position_ids` input: what the builder emits for CPU, CUDA and WebGPU), or by separate com.microsoft
 * `RotaryEmbedding` nodes on q and k fed by a `position_ids` input (the builder's DirectML form).
 */
export type BuilderRotary = 'in-attention' | 'separate';

/** Options of {@link buildLlamaBuilderForm} / {@link buildQwen2BuilderForm}. */
export interface BuilderFormOptions extends Omit<
  RotaryDecoderOptions,
  'quantize' | 'quantizeFilter' | 'withoutKvCache'
> {
  /** Default `in-attention`. */
  rotary?: BuilderRotary;
  /**
   * `q4`: every linear (lm_head included) as `MatMulNBits` (4 bits, block 32, symmetric: no zero points), as the
   * builder's int4 precision writes them.
   */
  quantize?: 'q4';
  /** `MatMulNBits` `accuracy_level` (the builder uses 4 for CPU and WebGPU: int8 activations). Default 4. */
  accuracyLevel?: number;
  /**
   * With `q4`: the embedding as `GatherBlockQuantized` (the builder with `Gather` in `op_types_to_quantize`; a
   * tied table then reads the lm_head's quantized weight). Default true.
   */
  quantizeEmbeddings?: boolean;
  /**
   * `packed`: q, k and v as one `/model/layers.N/attn/qkv_proj/MatMul` (weight `[d_in, q + 2·kv]`, biases one
   * `qkv_proj/Add`) read by `GroupQueryAttention` as packed QKV (no key/value inputs) — what the builder writes
   * for GQA on CPU, CUDA and WebGPU unless LoRA or `disable_qkv_fusion` is set (`use_packed_matmul`). Needs
   * rotary `in-attention`. Default `separate`.
   */
  qkv?: 'separate' | 'packed';
}

const B = 'batch_size';
const S = 'sequence_length';
const T = 'total_sequence_length';
const P = 'past_sequence_length';

/**
 * A tiny Llama in the graph form onnxruntime-genai's model builder writes (`builders/base.py`), with the weights of
 * {@link buildLlama} for the same options: see {@link buildBuilderForm}.
 */
export function buildLlamaBuilderForm(opts: BuilderFormOptions = {}): BuiltModel {
  return buildBuilderForm(buildLlama(twinOptions(opts)), opts);
}

/** {@link buildLlamaBuilderForm} for Qwen2 (biased q/k/v, tied embeddings), weights of {@link buildQwen2}. */
export function buildQwen2BuilderForm(opts: BuilderFormOptions = {}): BuiltModel {
  return buildBuilderForm(buildQwen2(twinOptions(opts)), opts);
}

function twinOptions(opts: BuilderFormOptions): RotaryDecoderOptions {
  const { rotary: _r, quantize: _q, accuracyLevel: _a, quantizeEmbeddings: _e, ...rest } = opts;
  return rest;
}

/**
 * The builder form of an fp32 TorchScript-form rotary decoder `twin` (same weights, same config.json and
 * tokenizer): opset 21 + com.microsoft, IR 10, producer `onnxruntime-genai`;
 * `attention_mask → ReduceSum − 1 → seqlens_k` and `Shape[1] → total_sequence_length` (int32) under
 * `/model/attn_mask_reformat/attn_mask_subgraph/`; `SimplifiedLayerNormalization` for the first norm, then a
 * chain of `SkipSimplifiedLayerNormalization` whose output 3 carries the residual; q/k/v/o as
 * `/model/layers.N/attn/{q,k,v,o}_proj/MatMul` with weights `model.layers.N.attn.q_proj.MatMul.weight`
 * (`[d_in, d_out]`; biases `…/q_proj/Add`, `model.layers.N.attn.q_proj.Add.bias`); `GroupQueryAttention` writing
 * `present.N.key/value`; the MLP as `/model/layers.N/mlp/{gate,up,down}_proj/MatMul` with `act_fn/Sigmoid` and
 * `act_fn/Mul`; the final norm `/model/layers.L/final_norm_layernorm/SkipLayerNorm`; `/lm_head/MatMul` →
 * `logits` (`lm_head.MatMul.weight`; a tied embedding Gathers from its Transpose). Inputs and outputs in the
 * builder's order: `input_ids`, `attention_mask`, [`position_ids`], every `past_key_values.N.key`, then every
 * `.value`; `logits`, every `present.N.key`, then every `.value`. `linears` keep the Hugging Face module paths
 * (`model.layers.0.self_attn.q_proj`), while the graph says `attn`.
 */
export function buildBuilderForm(twin: BuiltModel, opts: BuilderFormOptions = {}): BuiltModel {
  const c = twin.config;
  const cache = twin.cache;
  if (!cache)
    throw new ModelSpecError('the builder form needs a twin built with a KV cache', { arch: twin.arch });
  if (opts.quantize !== undefined && opts.quantize !== 'q4')
    throw new ModelSpecError(`unknown builder-form quantize ${String(opts.quantize)}: expected q4`, {
      quantize: opts.quantize,
    });
  const rotary = opts.rotary ?? 'in-attention';
  if (rotary !== 'in-attention' && rotary !== 'separate')
    throw new ModelSpecError(`unknown rotary ${String(rotary)}: expected in-attention or separate`, {
      rotary,
    });
  const qkv = opts.qkv ?? 'separate';
  if (qkv !== 'separate' && qkv !== 'packed')
    throw new ModelSpecError(`unknown qkv ${String(qkv)}: expected separate or packed`, { qkv });
  if (qkv === 'packed' && rotary !== 'in-attention')
    throw new ModelSpecError('packed qkv needs rotary in-attention (RotaryEmbedding reads q and k apart)', {
      rotary,
    });
  const hidden = c['hidden_size'] as number;
  const heads = c['num_attention_heads'] as number;
  const vocab = c['vocab_size'] as number;
  const eps = c['rms_norm_eps'] as number;
  const theta = c['rope_theta'] as number;
  const maxPositions = c['max_position_embeddings'] as number;
  const tied = c['tie_word_embeddings'] === true;
  const { layers, kvHeads, headDim } = cache;
  const q4 = opts.quantize === 'q4';
  const quantizeEmbeddings = q4 && (opts.quantizeEmbeddings ?? true);
  const accuracyLevel = opts.accuracyLevel ?? 4;
  if (q4 && (hidden % Q4_BLOCK !== 0 || (c['intermediate_size'] as number) % Q4_BLOCK !== 0))
    throw new ModelSpecError(`q4 builder form needs hidden and intermediate sizes that are multiples of 32`, {
      hidden,
    });

  const w = twinWeights(twin);
  const g = createModelGraph();
  g.useDomain('', 21);
  g.useDomain('com.microsoft', 1);
  const n = new BuilderNodes(g);
  const linears: LinearInfo[] = [];
  const lin = (module: string): TwinLinear => {
    const l = w.linears.get(module) ?? packedLinear(module);
    if (!l) throw new ModelSpecError(`twin has no linear ${module}`, { module });
    return l;
  };
  /** `….self_attn.qkv_proj`: the twin's q, k and v weights side by side (columns), biases concatenated. */
  function packedLinear(module: string): TwinLinear | undefined {
    if (!module.endsWith('.self_attn.qkv_proj')) return undefined;
    const base = module.slice(0, -'qkv_proj'.length);
    const parts = ['q_proj', 'k_proj', 'v_proj'].map((p) => w.linears.get(base + p));
    if (parts.some((p) => !p)) return undefined;
    const ps = parts as TwinLinear[];
    const dIn = ps[0]!.info.dIn;
    const dOut = ps.reduce((a, p) => a + p.info.dOut, 0);
    const weight = new Float32Array(dIn * dOut);
    let col = 0;
    for (const p of ps) {
      for (let k = 0; k < dIn; k++)
        weight.set(p.weight.subarray(k * p.info.dOut, (k + 1) * p.info.dOut), k * dOut + col);
      col += p.info.dOut;
    }
    // One packed bias when any part has one (zeros for the others), as make_packed_add writes it.
    const bias = ps.some((p) => p.bias)
      ? Float32Array.from(ps.flatMap((p) => [...(p.bias ?? new Float32Array(p.info.dOut))]))
      : undefined;
    return { info: { ...ps[0]!.info, module, dOut }, weight, ...(bias ? { bias } : {}) };
  }

  g.input('input_ids', DType.INT64, [B, S]);
  g.input('attention_mask', DType.INT64, [B, T]);
  if (rotary === 'separate') g.input('position_ids', DType.INT64, [B, S]);
  const kvNames = (p: string, kind: string) => Array.from({ length: layers }, (_, i) => `${p}.${i}.${kind}`);
  const pastNames = [...kvNames('past_key_values', 'key'), ...kvNames('past_key_values', 'value')];
  const presentNames = [...kvNames('present', 'key'), ...kvNames('present', 'value')];
  for (const name of pastNames) g.input(name, DType.FLOAT, [B, kvHeads, P, headDim]);

  // attention_mask → seqlens_k (row sums − 1) and total_sequence_length, both int32.
  const am = '/model/attn_mask_reformat/attn_mask_subgraph';
  const rowSums = n.node1('ReduceSum', `${am}/ReduceSum`, ['attention_mask', n.int64([1])], {
    keepdims: { int: 0 },
  });
  const minusOne = n.node1('Sub', `${am}/Sub`, [rowSums, n.int64([1])]);
  const seqlensK = n.node1('Cast', `${am}/Sub/Cast`, [minusOne], { to: { int: DType.INT32 } });
  const maskShape = n.node1('Shape', `${am}/Shape`, ['attention_mask']);
  const total = n.node1('Gather', `${am}/Gather`, [maskShape, n.int64(1)], { axis: { int: 0 } });
  const totalLen = n.node1('Cast', `${am}/Gather/Cast`, [total], { to: { int: DType.INT32 } });

  // Linear layers: MatMul by `<node path>.weight` [d_in, d_out], or MatMulNBits by its quantized rows.
  const matmul = (
    module: string,
    path: string,
    x: string,
    opt: { output?: string; scales2d?: boolean } = {},
  ): string => {
    const l = lin(module);
    const { dIn, dOut } = l.info;
    const name = `${path}/MatMul`;
    const weightBase = `${name.slice(1).replaceAll('/', '.')}.weight`;
    const out = opt.output ?? `${name}/output_0`;
    let info: LinearInfo;
    if (q4) {
      const rows = quantizeRowsQ4((r, k) => l.weight[k * dOut + r]!, dOut, dIn);
      const data = g.initializer(
        `${weightBase}_Q4`,
        [dOut, rows.nBlocks, Q4_BLOCK / 2],
        rows.packed,
        DType.UINT8,
      );
      const scaleDims = opt.scales2d ? [dOut, rows.nBlocks] : [dOut * rows.nBlocks];
      const scales = g.initializer(`${weightBase}_scales`, scaleDims, rows.scales);
      const attrs = {
        K: { int: dIn },
        N: { int: dOut },
        bits: { int: 4 },
        block_size: { int: Q4_BLOCK },
        accuracy_level: { int: accuracyLevel },
      };
      n.node('MatMulNBits', `${name}_Q4`, [x, data, scales], attrs, {
        domain: 'com.microsoft',
        outputs: [out],
      });
      info = { module, node: `${name}_Q4`, weight: data, output: out, dIn, dOut, form: 'matmulnbits' };
    } else {
      const weight = g.initializer(weightBase, [dIn, dOut], l.weight);
      n.node('MatMul', name, [x, weight], {}, { outputs: [out] });
      info = { module, node: name, weight, output: out, dIn, dOut, form: 'matmul' };
    }
    if (l.bias) {
      const add = `${path}/Add`;
      info.bias = g.initializer(`${add.slice(1).replaceAll('/', '.')}.bias`, [dOut], l.bias);
      info.output = n.node1('Add', add, [out, info.bias]);
      if (!q4) info.form = 'matmul-add';
    }
    linears.push(info);
    return info.output;
  };

  // Embeddings (the builder's three cases: tied + quantized, tied float, own table).
  const e = '/model/embed_tokens';
  let h: string;
  const lmWeightBase = 'lm_head.MatMul.weight';
  if (tied && quantizeEmbeddings) {
    const flat = n.node1('Reshape', `${e}/Reshape`, [`${lmWeightBase}_Q4`, n.int64([vocab, hidden / 2])]);
    h = n.node1(
      'GatherBlockQuantized',
      `${e}/GatherBlockQuantized`,
      [flat, 'input_ids', `${lmWeightBase}_scales`],
      gbqAttrs(),
      { domain: 'com.microsoft' },
    );
  } else if (tied && !q4) {
    const table = n.node1('Transpose', `${e}/Transpose`, [lmWeightBase], { perm: { ints: [1, 0] } });
    h = n.node1('Gather', `${e}/Gather`, [table, 'input_ids']);
  } else if (quantizeEmbeddings) {
    const rows = quantizeRowsQ4((r, k) => w.embedding[r * hidden + k]!, vocab, hidden);
    const base = 'model.embed_tokens.weight';
    const data = g.initializer(`${base}_Q4`, [vocab, hidden / 2], rows.packed, DType.UINT8);
    const scales = g.initializer(`${base}_scales`, [vocab, rows.nBlocks], rows.scales);
    h = n.node1(
      'GatherBlockQuantized',
      `${e}/GatherBlockQuantized`,
      [data, 'input_ids', scales],
      gbqAttrs(),
      {
        domain: 'com.microsoft',
      },
    );
  } else {
    const table = g.initializer('model.embed_tokens.weight', [vocab, hidden], w.embedding);
    h = n.node1('Gather', `${e}/Gather`, [table, 'input_ids']);
  }

  // RoPE caches [maxPositions, headDim / 2] (cos/sin of position · inv_freq, as make_rotary_embedding_caches).
  const half = headDim / 2;
  const cos = new Float32Array(maxPositions * half);
  const sin = new Float32Array(maxPositions * half);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const f = Math.fround(p * Math.fround(1 / theta ** ((2 * i) / headDim)));
      cos[p * half + i] = Math.cos(f);
      sin[p * half + i] = Math.sin(f);
    }
  }
  const cosCache = g.initializer('cos_cache', [maxPositions, half], cos);
  const sinCache = g.initializer('sin_cache', [maxPositions, half], sin);

  // Norms: SimplifiedLayerNormalization first, then SkipSimplified (output 3 = the residual sum).
  let root = h;
  let skip: string | undefined;
  const norm = (layer: number, location: string, last = false): string => {
    const scope = `/model/layers.${layer}/${location}_layernorm`;
    const weight = g.initializer(
      `model.layers.${layer}.${location}_layernorm.weight`,
      [hidden],
      new Float32Array(hidden).fill(1),
    );
    const out0 = `${scope}/output_0`;
    if (skip === undefined) {
      const attrs = { axis: { int: -1 }, epsilon: { float: eps }, stash_type: { int: 1 } };
      return n.node1('SimplifiedLayerNormalization', `${scope}/LayerNorm`, [root, weight], attrs, {
        output: out0,
      });
    }
    const out3 = `${scope}/output_3`;
    n.node(
      'SkipSimplifiedLayerNormalization',
      `${scope}/SkipLayerNorm`,
      [root, skip, weight],
      {
        epsilon: { float: eps },
      },
      { domain: 'com.microsoft', outputs: last ? [out0] : [out0, '', '', out3] },
    );
    if (!last) root = out3;
    return out0;
  };

  for (let i = 0; i < layers; i++) {
    const hf = `model.layers.${i}`;
    const s = `/model/layers.${i}`;
    const x = norm(i, 'input');
    const packed = qkv === 'packed';
    let q = packed
      ? matmul(`${hf}.self_attn.qkv_proj`, `${s}/attn/qkv_proj`, x)
      : matmul(`${hf}.self_attn.q_proj`, `${s}/attn/q_proj`, x);
    let k = packed ? '' : matmul(`${hf}.self_attn.k_proj`, `${s}/attn/k_proj`, x);
    const v = packed ? '' : matmul(`${hf}.self_attn.v_proj`, `${s}/attn/v_proj`, x);
    if (rotary === 'separate') {
      const rope = (input: string, which: 'q' | 'k') =>
        n.node1(
          'RotaryEmbedding',
          `${s}/attn/${which}_rotary/RotaryEmbedding`,
          [input, 'position_ids', cosCache, sinCache],
          { interleaved: { int: 0 }, num_heads: { int: 0 }, rotary_embedding_dim: { int: 0 } },
          { domain: 'com.microsoft' },
        );
      q = rope(q, 'q');
      k = rope(k, 'k');
    }
    const gqaName = `${s}/attn/GroupQueryAttention`;
    const inAttention = rotary === 'in-attention';
    const gqaInputs = [
      q,
      k,
      v,
      `past_key_values.${i}.key`,
      `past_key_values.${i}.value`,
      seqlensK,
      totalLen,
      ...(inAttention ? [cosCache, sinCache] : []),
    ];
    const [attn] = n.node(
      'GroupQueryAttention',
      gqaName,
      gqaInputs,
      {
        num_heads: { int: heads },
        kv_num_heads: { int: kvHeads },
        scale: { float: 1 / Math.sqrt(headDim) },
        local_window_size: { int: -1 },
        softcap: { float: 0 },
        do_rotary: { int: inAttention ? 1 : 0 },
        rotary_interleaved: { int: 0 },
      },
      { domain: 'com.microsoft', outputs: [`${gqaName}/output_0`, `present.${i}.key`, `present.${i}.value`] },
    );
    skip = matmul(`${hf}.self_attn.o_proj`, `${s}/attn/o_proj`, attn!);
    const y = norm(i, 'post_attention');
    const gate = matmul(`${hf}.mlp.gate_proj`, `${s}/mlp/gate_proj`, y);
    const up = matmul(`${hf}.mlp.up_proj`, `${s}/mlp/up_proj`, y);
    const sig = n.node1('Sigmoid', `${s}/mlp/act_fn/Sigmoid`, [gate]);
    const act = n.node1('Mul', `${s}/mlp/act_fn/Mul`, [gate, sig]);
    const prod = n.node1('Mul', `${s}/mlp/Mul`, [act, up]);
    skip = matmul(`${hf}.mlp.down_proj`, `${s}/mlp/down_proj`, prod);
  }
  const final = norm(layers, 'final_norm', true);
  matmul('lm_head', '/lm_head', final, { output: 'logits', scales2d: tied && quantizeEmbeddings });

  g.output('logits', DType.FLOAT, [B, S, vocab]);
  for (const name of presentNames) g.output(name, DType.FLOAT, [B, kvHeads, T, headDim]);
  const model = fromBinary(ModelProtoSchema, g.toBytes('onnxruntime-genai'));
  model.irVersion = 10n;
  model.producerVersion = '';
  return {
    ...twin,
    onnx: toBinary(ModelProtoSchema, model),
    linears,
    inputNames: [
      'input_ids',
      'attention_mask',
      ...(rotary === 'separate' ? ['position_ids'] : []),
      ...pastNames,
    ],
    outputNames: ['logits', ...presentNames],
  };
}

const gbqAttrs = () => ({
  bits: { int: 4 },
  block_size: { int: Q4_BLOCK },
  gather_axis: { int: 0 },
  quantize_axis: { int: 1 },
});
