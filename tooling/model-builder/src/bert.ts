import { attend, dimOf, mergeHeads, paddingMaskBias, splitHeads } from './attention.js';
import { createContext, embeddingTable, geluErf, layerNorm, linear } from './blocks.js';
import { DType, ModelSpecError, constI64 } from './model-graph.js';
import { wordPieceTokenizer, wordPieceTokenizerConfig, wordPieceVocab } from './tokenizers.js';
import type { BuiltModel, CommonOptions } from './types.js';

/** Options of {@link buildBertForSequenceClassification}. */
export interface BertOptions extends CommonOptions {
  /** Class names; `id2label` / `label2id` come from them. Default `['NEGATIVE', 'POSITIVE']`. */
  labels?: string[];
  /** Position table size. Default 128. */
  maxPositions?: number;
}

const EPS = 1e-12;

/**
 * A tiny random `BertForSequenceClassification` (uncased WordPiece tokenizer) in TorchScript's export layout:
 * `MatMul` with `onnx::MatMul_N` weights `[d_in, d_out]` then `Add(bert.….bias, ·)` under
 * `/bert/encoder/layer.{i}/attention/self/{query,key,value}`, `/attention/output/dense`, `/intermediate/dense`,
 * `/output/dense`, `LayerNormalization` nodes, erf-gelu, pooler `Tanh`, `/classifier` → `logits` `[batch, labels]`.
 * Inputs `input_ids`, `attention_mask`, `token_type_ids`. Defaults: hidden 32, 2 layers, 4 heads, intermediate 64.
 */
export function buildBertForSequenceClassification(opts: BertOptions = {}): BuiltModel {
  const labels = opts.labels ?? ['NEGATIVE', 'POSITIVE'];
  const tokVocab = wordPieceVocab().length;
  const hidden = opts.hidden ?? 32;
  const heads = opts.heads ?? 4;
  const layers = opts.layers ?? 2;
  const inter = opts.intermediate ?? 2 * hidden;
  const vocab = opts.vocab ?? tokVocab;
  const maxPos = opts.maxPositions ?? 128;
  const headDim = hidden / heads;
  if (!Number.isInteger(headDim))
    throw new ModelSpecError(`hidden ${hidden} not divisible by heads ${heads}`, { hidden, heads });
  if (vocab < tokVocab)
    throw new ModelSpecError(`vocab ${vocab} is smaller than the tokenizer's ${tokVocab}`, { vocab });
  if (labels.length < 1) throw new ModelSpecError('at least one label is needed', { labels });

  const ctx = createContext(opts, (m) => m.startsWith('bert.encoder.'));
  const { g } = ctx;
  const dims = ['batch_size', 'sequence_length'];
  const ids = g.input('input_ids', DType.INT64, dims);
  const mask = g.input('attention_mask', DType.INT64, dims);
  const typeIds = g.input('token_type_ids', DType.INT64, dims);

  const e = '/bert/embeddings';
  const word = g
    .at(`${e}/word_embeddings`)
    .op1('Gather', [embeddingTable(ctx, 'bert.embeddings.word_embeddings.weight', vocab, hidden).name, ids]);
  const type = g
    .at(`${e}/token_type_embeddings`)
    .op1('Gather', [
      embeddingTable(ctx, 'bert.embeddings.token_type_embeddings.weight', 2, hidden).name,
      typeIds,
    ]);
  // The registered `position_ids` buffer sliced to the sequence length, as the export keeps it.
  const posBuffer = g.initializer(
    'bert.embeddings.position_ids',
    [1, maxPos],
    BigInt64Array.from({ length: maxPos }, (_, i) => BigInt(i)),
  );
  const seq = g.at(e).op1('Unsqueeze', [dimOf(g, e, ids, 1), constI64(g.at(e), [0])]);
  const pos = g
    .at(e)
    .op1('Slice', [posBuffer, constI64(g.at(e), [0]), seq, constI64(g.at(e), [1]), constI64(g.at(e), [1])]);
  const posEmb = g
    .at(`${e}/position_embeddings`)
    .op1('Gather', [
      embeddingTable(ctx, 'bert.embeddings.position_embeddings.weight', maxPos, hidden).name,
      pos,
    ]);
  const sum = g.at(e).op1('Add', [g.at(e).op1('Add', [word, type]), posEmb]);
  let h = layerNorm(ctx, `${e}/LayerNorm`, 'bert.embeddings.LayerNorm', sum, hidden, EPS);
  const bias = paddingMaskBias(g, '/bert', mask);

  for (let i = 0; i < layers; i++) {
    const m = `bert.encoder.layer.${i}`;
    const s = `/bert/encoder/layer.${i}`;
    const lin = (path: string, x: string, dIn: number, dOut: number) =>
      linear(
        ctx,
        { module: `${m}.${path}`, scope: `${s}/${path.replaceAll('.', '/')}`, dIn, dOut, bias: true },
        x,
      );
    const a = `${s}/attention/self`;
    const q = splitHeads(g, a, lin('attention.self.query', h, hidden, hidden), heads, headDim);
    const k = splitHeads(g, a, lin('attention.self.key', h, hidden, hidden), heads, headDim);
    const v = splitHeads(g, a, lin('attention.self.value', h, hidden, hidden), heads, headDim);
    const attn = mergeHeads(g, a, attend(g, a, q, k, v, bias, headDim, 'Div'), hidden);
    const dense = lin('attention.output.dense', attn, hidden, hidden);
    const res1 = g.at(`${s}/attention/output`).op1('Add', [dense, h]);
    h = layerNorm(
      ctx,
      `${s}/attention/output/LayerNorm`,
      `${m}.attention.output.LayerNorm`,
      res1,
      hidden,
      EPS,
    );
    const up = geluErf(
      ctx,
      `${s}/intermediate/intermediate_act_fn`,
      lin('intermediate.dense', h, hidden, inter),
    );
    const res2 = g.at(`${s}/output`).op1('Add', [lin('output.dense', up, inter, hidden), h]);
    h = layerNorm(ctx, `${s}/output/LayerNorm`, `${m}.output.LayerNorm`, res2, hidden, EPS);
  }

  const first = g.at('/bert/pooler').op1('Gather', [h, constI64(g.at('/bert/pooler'), [0], true)], {
    axis: { int: 1 },
  });
  const pooled = linear(
    ctx,
    { module: 'bert.pooler.dense', scope: '/bert/pooler/dense', dIn: hidden, dOut: hidden, bias: true },
    first,
  );
  const act = g.at('/bert/pooler/activation').op1('Tanh', [pooled]);
  const head = {
    module: 'classifier',
    scope: '/classifier',
    dIn: hidden,
    dOut: labels.length,
    bias: true,
    outputName: 'logits',
  };
  linear(ctx, head, act);
  g.output('logits', DType.FLOAT, ['batch_size', labels.length]);

  return {
    arch: 'bert',
    onnx: g.toBytes(),
    linears: ctx.linears,
    inputNames: ['input_ids', 'attention_mask', 'token_type_ids'],
    outputNames: ['logits'],
    config: {
      architectures: ['BertForSequenceClassification'],
      model_type: 'bert',
      hidden_size: hidden,
      num_hidden_layers: layers,
      num_attention_heads: heads,
      intermediate_size: inter,
      hidden_act: 'gelu',
      max_position_embeddings: maxPos,
      type_vocab_size: 2,
      vocab_size: vocab,
      layer_norm_eps: EPS,
      pad_token_id: 0,
      problem_type: 'single_label_classification',
      id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
      label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    },
    tokenizer: wordPieceTokenizer(),
    tokenizerConfig: wordPieceTokenizerConfig(),
  };
}
