import { attend, causalMaskBias, mergeHeads, splitHeads } from './attention.js';
import { createContext, embeddingTable, geluTanh, layerNorm, linear, transpose2d } from './blocks.js';
import { DType, ModelSpecError, constI64 } from './model-graph.js';
import { TIED_EMBEDDING_STD } from './rotary-decoder.js';
import { BPE_SPECIAL, BPE_VOCAB_SIZE, bpeTokenizerConfig, byteLevelBpeTokenizer } from './tokenizers.js';
import type { BuildContext, BuiltModel, CommonOptions } from './types.js';

/** Options of {@link buildGpt2}. */
export interface Gpt2Options extends CommonOptions {
  /** Learned position table size (`n_positions`). Default 256. */
  maxPositions?: number;
  /**
   * How Conv1D layers are exported: `matmul` (default) `MatMul(x, W) + Add(b, ·)` with W the module's own
   * `[d_in, d_out]` weight `transformer.h.{i}.….weight`; `gemm` the literal trace of `torch.addmm` on the flattened
   * input: `Reshape [-1, d_in]`, `Gemm(x, W, b)`, `Reshape` back (no quantization in this form).
   */
  conv1dForm?: 'matmul' | 'gemm';
}

function conv1d(
  ctx: BuildContext,
  form: 'matmul' | 'gemm',
  module: string,
  scope: string,
  x: string,
  dIn: number,
  dOut: number,
): string {
  if (form === 'matmul')
    return linear(ctx, { module, scope, dIn, dOut, bias: true, weightName: `${module}.weight` }, x);
  const { g, rng } = ctx;
  const weight = g.initializer(
    `${module}.weight`,
    [dIn, dOut],
    rng.normalArray(dIn * dOut, 1 / Math.sqrt(dIn)),
  );
  const bias = g.initializer(`${module}.bias`, [dOut], rng.normalArray(dOut, 0.1));
  const flat = g.at(scope).op1('Reshape', [x, constI64(g.at(scope), [-1, dIn])], { allowzero: { int: 0 } });
  const y = g.at(scope).op1('Gemm', [flat, weight, bias], { alpha: { float: 1 }, beta: { float: 1 } });
  const lead = g.at(scope).op1('Shape', [x], { start: { int: 0 }, end: { int: -1 } });
  const shape = g.at(scope).op1('Concat', [lead, constI64(g.at(scope), [dOut])], { axis: { int: 0 } });
  const out = g.at(scope).op1('Reshape', [y, shape], { allowzero: { int: 0 } });
  ctx.linears.push({ module, node: `${scope}/Gemm`, weight, bias, output: out, dIn, dOut, form: 'gemm' });
  return out;
}

/**
 * A tiny random `GPT2LMHeadModel`: learned position embeddings (`transformer.wpe` from `position_ids`), pre-LN blocks
 * with `LayerNormalization`, fused `c_attn` (d_out = 3·hidden) `Split` into q, k, v, `gelu_new` as ops, KV cache
 * `past_key_values.{i}.{key,value}` `[batch, heads, past, head_dim]`, tied lm_head (transposed copy of `wte`).
 * Conv1D node names `/transformer/h.{i}/{attn,mlp}/{c_attn,c_proj,c_fc}/MatMul`. Defaults: hidden 64, 2 layers,
 * 4 heads, intermediate 4·hidden, vocab 384.
 */
export function buildGpt2(opts: Gpt2Options = {}): BuiltModel {
  const hidden = opts.hidden ?? 64;
  const heads = opts.heads ?? 4;
  const layers = opts.layers ?? 2;
  const inter = opts.intermediate ?? 4 * hidden;
  const vocab = opts.vocab ?? BPE_VOCAB_SIZE;
  const maxPos = opts.maxPositions ?? 256;
  const form = opts.conv1dForm ?? 'matmul';
  const headDim = hidden / heads;
  if (!Number.isInteger(headDim))
    throw new ModelSpecError(`hidden ${hidden} not divisible by heads ${heads}`, { hidden, heads });
  if (vocab < BPE_VOCAB_SIZE)
    throw new ModelSpecError(`vocab ${vocab} is smaller than the tokenizer's ${BPE_VOCAB_SIZE}`, {
      vocab,
    });
  if (form === 'gemm' && opts.quantize)
    throw new ModelSpecError('conv1dForm "gemm" cannot be quantized', { quantize: opts.quantize });

  const ctx = createContext(opts, (m) => m.startsWith('transformer.h.'));
  const { g } = ctx;
  const [B, S, T] = ['batch_size', 'sequence_length', 'total_sequence_length'];
  const ids = g.input('input_ids', DType.INT64, [B, S]);
  const mask = g.input('attention_mask', DType.INT64, [B, T]);
  const positionIds = g.input('position_ids', DType.INT64, [B, S]);
  for (let i = 0; i < layers; i++) {
    for (const kind of ['key', 'value'])
      g.input(`past_key_values.${i}.${kind}`, DType.FLOAT, [B, heads, 'past_sequence_length', headDim]);
  }

  // Small tables: `wte` is tied to the lm_head (see TIED_EMBEDDING_STD).
  const wte = embeddingTable(ctx, 'transformer.wte.weight', vocab, hidden, TIED_EMBEDDING_STD);
  const wpe = embeddingTable(ctx, 'transformer.wpe.weight', maxPos, hidden, TIED_EMBEDDING_STD);
  const tok = g.at('/transformer/wte').op1('Gather', [wte.name, ids]);
  const pos = g.at('/transformer/wpe').op1('Gather', [wpe.name, positionIds]);
  let h = g.at('/transformer').op1('Add', [tok, pos]);
  const bias = causalMaskBias(g, '/transformer', ids, mask);

  for (let i = 0; i < layers; i++) {
    const m = `transformer.h.${i}`;
    const s = `/transformer/h.${i}`;
    const a = `${s}/attn`;
    const ln1 = layerNorm(ctx, `${s}/ln_1`, `${m}.ln_1`, h, hidden, 1e-5);
    const qkv = conv1d(ctx, form, `${m}.attn.c_attn`, `${a}/c_attn`, ln1, hidden, 3 * hidden);
    const [q, k, v] = g
      .at(a)
      .op('Split', [qkv, constI64(g.at(a), [hidden, hidden, hidden])], { axis: { int: 2 } }, 3);
    const kAll = g
      .at(a)
      .op1(
        'Concat',
        [`past_key_values.${i}.key`, splitHeads(g, a, k!, heads, headDim)],
        { axis: { int: -2 } },
        `present.${i}.key`,
      );
    const vAll = g
      .at(a)
      .op1(
        'Concat',
        [`past_key_values.${i}.value`, splitHeads(g, a, v!, heads, headDim)],
        { axis: { int: -2 } },
        `present.${i}.value`,
      );
    const ctxOut = mergeHeads(
      g,
      a,
      attend(g, a, splitHeads(g, a, q!, heads, headDim), kAll, vAll, bias, headDim, 'Div'),
      hidden,
    );
    h = g.at(s).op1('Add', [conv1d(ctx, form, `${m}.attn.c_proj`, `${a}/c_proj`, ctxOut, hidden, hidden), h]);

    const ln2 = layerNorm(ctx, `${s}/ln_2`, `${m}.ln_2`, h, hidden, 1e-5);
    const fc = conv1d(ctx, form, `${m}.mlp.c_fc`, `${s}/mlp/c_fc`, ln2, hidden, inter);
    const act = geluTanh(ctx, `${s}/mlp/act`, fc);
    h = g.at(s).op1('Add', [h, conv1d(ctx, form, `${m}.mlp.c_proj`, `${s}/mlp/c_proj`, act, inter, hidden)]);
  }
  const final = layerNorm(ctx, '/transformer/ln_f', 'transformer.ln_f', h, hidden, 1e-5);
  const lmHead = {
    module: 'lm_head',
    scope: '/lm_head',
    dIn: hidden,
    dOut: vocab,
    weight: transpose2d(wte.data, vocab, hidden),
    outputName: 'logits',
  };
  linear(ctx, lmHead, final);

  g.output('logits', DType.FLOAT, [B, S, vocab]);
  const kvNames = (p: string) =>
    Array.from({ length: layers }, (_, i) => [`${p}.${i}.key`, `${p}.${i}.value`]).flat();
  for (const name of kvNames('present')) g.output(name, DType.FLOAT, [B, heads, T, headDim]);

  const tokenizer = byteLevelBpeTokenizer();
  // GPT-2 adds no BOS: its tokenizer.json post-processor is plain ByteLevel.
  tokenizer.post_processor = {
    type: 'ByteLevel',
    add_prefix_space: true,
    trim_offsets: false,
    use_regex: true,
  };
  return {
    arch: 'gpt2',
    onnx: g.toBytes(),
    linears: ctx.linears,
    cache: { layers, kvHeads: heads, headDim },
    inputNames: ['input_ids', 'attention_mask', 'position_ids', ...kvNames('past_key_values')],
    outputNames: ['logits', ...kvNames('present')],
    config: {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      n_embd: hidden,
      n_head: heads,
      n_layer: layers,
      n_inner: inter,
      n_positions: maxPos,
      n_ctx: maxPos,
      vocab_size: vocab,
      activation_function: 'gelu_new',
      layer_norm_epsilon: 1e-5,
      tie_word_embeddings: true,
      bos_token_id: BPE_SPECIAL.bos,
      eos_token_id: BPE_SPECIAL.eos,
      use_cache: true,
    },
    generationConfig: { bos_token_id: BPE_SPECIAL.bos, eos_token_id: BPE_SPECIAL.eos },
    tokenizer,
    tokenizerConfig: bpeTokenizerConfig('GPT2Tokenizer'),
  };
}
