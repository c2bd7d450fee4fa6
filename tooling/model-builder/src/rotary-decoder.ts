import {
  applyRotary,
  attend,
  causalMaskBias,
  dimOf,
  mergeHeads,
  range,
  repeatKv,
  rotaryTables,
  splitHeads,
} from './attention.js';
import { createContext, embeddingTable, linear, rmsNorm, sharedOnes, transpose2d } from './blocks.js';
import { DType, ModelSpecError, constI64 } from './model-graph.js';
import type { CommonOptions, LinearInfo } from './types.js';

/** Std of tied embedding tables (see the comment where it is used). */
export const TIED_EMBEDDING_STD = 0.1;

/** Options of the Llama-family decoders (Llama, Qwen2). */
export interface RotaryDecoderOptions extends CommonOptions {
  /** Key/value heads (GQA when fewer than `heads`). Default 2. */
  kvHeads?: number;
  /**
   * Build the graph without a KV cache: inputs `input_ids`, `attention_mask`, output `logits` only (the form the
   * fixture `tiny-llama` has; good for training graphs, not for transformers.js generation).
   */
  withoutKvCache?: boolean;
  /** RoPE base. Default 10000. */
  ropeTheta?: number;
  /** RMSNorm epsilon. Default 1e-5 (Llama) / 1e-6 (Qwen2). */
  rmsNormEps?: number;
}

/** Fully resolved sizes of a rotary decoder. */
export interface RotaryDecoderDims {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  vocab: number;
  ropeTheta: number;
  rmsNormEps: number;
}

/** Architecture differences between Llama and Qwen2 that show in the graph. */
export interface RotaryFlavour {
  /** q/k/v projections carry biases (Qwen2). */
  qkvBias: boolean;
  /** lm_head shares the embedding table (exported as a transposed copy `onnx::MatMul_N`). */
  tiedEmbeddings: boolean;
  defaultEps: number;
}

/** Resolve defaults and check that the sizes fit together. */
export function resolveRotaryDims(
  opts: RotaryDecoderOptions,
  flavour: RotaryFlavour,
  minVocab: number,
): RotaryDecoderDims {
  const hidden = opts.hidden ?? 64;
  const heads = opts.heads ?? 4;
  const kvHeads = opts.kvHeads ?? Math.min(2, heads);
  const dims = {
    hidden,
    layers: opts.layers ?? 2,
    heads,
    kvHeads,
    headDim: hidden / heads,
    intermediate: opts.intermediate ?? 2 * hidden,
    vocab: opts.vocab ?? minVocab,
    ropeTheta: opts.ropeTheta ?? 10000,
    rmsNormEps: opts.rmsNormEps ?? flavour.defaultEps,
  };
  if (!Number.isInteger(dims.headDim) || dims.headDim % 2 !== 0) {
    throw new ModelSpecError(`hidden ${hidden} must split into ${heads} heads of an even size`, {
      hidden,
      heads,
    });
  }
  if (heads % kvHeads !== 0)
    throw new ModelSpecError(`heads ${heads} not a multiple of kvHeads ${kvHeads}`, { heads, kvHeads });
  if (dims.vocab < minVocab) {
    throw new ModelSpecError(`vocab ${dims.vocab} is smaller than the tokenizer's ${minVocab}`, {
      vocab: dims.vocab,
      minVocab,
    });
  }
  return dims;
}

/** Graph of a Llama-style decoder, in TorchScript's layout (module paths under `/model/…`, `/lm_head`). */
export function buildRotaryDecoderGraph(
  opts: RotaryDecoderOptions,
  flavour: RotaryFlavour,
  d: RotaryDecoderDims,
): { onnx: Uint8Array; linears: LinearInfo[]; inputNames: string[]; outputNames: string[] } {
  const ctx = createContext(opts, (m) => m.startsWith('model.layers.'));
  const { g } = ctx;
  const kv = !opts.withoutKvCache;
  const B = 'batch_size';
  const S = 'sequence_length';
  const T = kv ? 'total_sequence_length' : S;
  const inputIds = g.input('input_ids', DType.INT64, [B, S]);
  const mask = g.input('attention_mask', DType.INT64, [B, T]);
  let positionIds: string;
  if (kv) positionIds = g.input('position_ids', DType.INT64, [B, S]);
  for (let i = 0; kv && i < d.layers; i++) {
    for (const kind of ['key', 'value'])
      g.input(`past_key_values.${i}.${kind}`, DType.FLOAT, [B, d.kvHeads, 'past_sequence_length', d.headDim]);
  }

  // A tied table also scores the output: at std 1 the current token's own embedding (still in the residual) would
  // win every step and greedy decoding would repeat it forever. A small table lets the blocks decide.
  const embStd = flavour.tiedEmbeddings ? TIED_EMBEDDING_STD : 1;
  const emb = embeddingTable(ctx, 'model.embed_tokens.weight', d.vocab, d.hidden, embStd);
  let h = g.at('/model/embed_tokens').op1('Gather', [emb.name, inputIds]);
  const bias = causalMaskBias(g, '/model', inputIds, mask);
  if (!kv) {
    // HF uses arange(seq) positions when none are given.
    const seq = dimOf(g, '/model', inputIds, 1);
    const pos = range(g, '/model', constI64(g.at('/model'), [0], true), seq);
    positionIds = g.at('/model').op1('Unsqueeze', [pos, constI64(g.at('/model'), [0])]);
  }
  const { cos, sin } = rotaryTables(g, '/model/rotary_emb', positionIds!, d.headDim, d.ropeTheta);

  const rep = d.heads / d.kvHeads;
  for (let i = 0; i < d.layers; i++) {
    const m = `model.layers.${i}`;
    const s = `/model/layers.${i}`;
    const ln1 = rmsNorm(
      ctx,
      `${s}/input_layernorm`,
      h,
      sharedOnes(ctx, `${m}.input_layernorm.weight`, d.hidden),
      d.rmsNormEps,
    );
    const a = `${s}/self_attn`;
    const proj = (name: string, dOut: number) =>
      linear(
        ctx,
        {
          module: `${m}.self_attn.${name}`,
          scope: `${a}/${name}`,
          dIn: d.hidden,
          dOut,
          bias: flavour.qkvBias,
        },
        ln1.out,
      );
    const q = splitHeads(g, a, proj('q_proj', d.heads * d.headDim), d.heads, d.headDim);
    let k = splitHeads(g, a, proj('k_proj', d.kvHeads * d.headDim), d.kvHeads, d.headDim);
    let v = splitHeads(g, a, proj('v_proj', d.kvHeads * d.headDim), d.kvHeads, d.headDim);
    const qr = applyRotary(g, a, q, cos, sin, d.headDim);
    k = applyRotary(g, a, k, cos, sin, d.headDim);
    if (kv) {
      k = g.at(a).op1('Concat', [`past_key_values.${i}.key`, k], { axis: { int: -2 } }, `present.${i}.key`);
      v = g
        .at(a)
        .op1('Concat', [`past_key_values.${i}.value`, v], { axis: { int: -2 } }, `present.${i}.value`);
    }
    const kAll = repeatKv(g, a, k, rep, d.heads, d.headDim);
    const vAll = repeatKv(g, a, v, rep, d.heads, d.headDim);
    const ctxOut = mergeHeads(
      g,
      a,
      attend(g, a, qr, kAll, vAll, bias, d.headDim, 'Mul'),
      d.heads * d.headDim,
    );
    const o = linear(
      ctx,
      { module: `${m}.self_attn.o_proj`, scope: `${a}/o_proj`, dIn: d.heads * d.headDim, dOut: d.hidden },
      ctxOut,
    );
    h = g.at(s).op1('Add', [ln1.residual, o]);

    const ln2 = rmsNorm(
      ctx,
      `${s}/post_attention_layernorm`,
      h,
      sharedOnes(ctx, `${m}.post_attention_layernorm.weight`, d.hidden),
      d.rmsNormEps,
    );
    const mlp = (name: string, x: string, dIn: number, dOut: number) =>
      linear(ctx, { module: `${m}.mlp.${name}`, scope: `${s}/mlp/${name}`, dIn, dOut }, x);
    const gate = mlp('gate_proj', ln2.out, d.hidden, d.intermediate);
    const act = g.at(`${s}/mlp/act_fn`).op1('Mul', [gate, g.at(`${s}/mlp/act_fn`).op1('Sigmoid', [gate])]);
    const up = mlp('up_proj', ln2.out, d.hidden, d.intermediate);
    const down = mlp('down_proj', g.at(`${s}/mlp`).op1('Mul', [act, up]), d.intermediate, d.hidden);
    h = g.at(s).op1('Add', [ln2.residual, down]);
  }
  const final = rmsNorm(ctx, '/model/norm', h, sharedOnes(ctx, 'model.norm.weight', d.hidden), d.rmsNormEps);
  const lmWeight = flavour.tiedEmbeddings ? transpose2d(emb.data, d.vocab, d.hidden) : undefined;
  const lmHead = {
    module: 'lm_head',
    scope: '/lm_head',
    dIn: d.hidden,
    dOut: d.vocab,
    weight: lmWeight,
    outputName: 'logits',
  };
  linear(ctx, lmHead, final.out);

  g.output('logits', DType.FLOAT, [B, S, d.vocab]);
  for (let i = 0; kv && i < d.layers; i++) {
    for (const kind of ['key', 'value'])
      g.output(`present.${i}.${kind}`, DType.FLOAT, [B, d.kvHeads, T, d.headDim]);
  }
  const kvNames = (p: string) =>
    kv ? Array.from({ length: d.layers }, (_, i) => [`${p}.${i}.key`, `${p}.${i}.value`]).flat() : [];
  return {
    onnx: g.toBytes(),
    linears: ctx.linears,
    inputNames: [
      'input_ids',
      'attention_mask',
      ...(kv ? ['position_ids'] : []),
      ...kvNames('past_key_values'),
    ],
    outputNames: ['logits', ...kvNames('present')],
  };
}
