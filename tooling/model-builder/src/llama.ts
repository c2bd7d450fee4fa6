import { buildRotaryDecoderGraph, resolveRotaryDims, type RotaryDecoderOptions } from './rotary-decoder.js';
import { BPE_SPECIAL, BPE_VOCAB_SIZE, bpeTokenizerConfig, byteLevelBpeTokenizer } from './tokenizers.js';
import type { BuiltModel } from './types.js';

/** Options of {@link buildLlama}. */
export type LlamaOptions = RotaryDecoderOptions;

const LLAMA = { qkvBias: false, tiedEmbeddings: false, defaultEps: 1e-5 };

/**
 * A tiny random `LlamaForCausalLM` in the TorchScript export layout of the `tiny-llama-kv` fixture: RMSNorm
 * decomposed (Pow/ReduceMean/Add/Sqrt/Div/Mul), RoPE from `position_ids`, GQA, SiLU MLP, no biases, untied lm_head,
 * linears as `MatMul` with `onnx::MatMul_N` weights `[d_in, d_out]` under `/model/layers.{i}/{self_attn,mlp}/…`.
 * Defaults: hidden 64, 2 layers, 4 heads, 2 KV heads, intermediate 128, vocab 384.
 */
export function buildLlama(opts: LlamaOptions = {}): BuiltModel {
  const d = resolveRotaryDims(opts, LLAMA, BPE_VOCAB_SIZE);
  const graph = buildRotaryDecoderGraph(opts, LLAMA, d);
  return {
    arch: 'llama',
    ...graph,
    ...(opts.withoutKvCache ? {} : { cache: { layers: d.layers, kvHeads: d.kvHeads, headDim: d.headDim } }),
    config: {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      attention_bias: false,
      mlp_bias: false,
      hidden_act: 'silu',
      hidden_size: d.hidden,
      intermediate_size: d.intermediate,
      num_attention_heads: d.heads,
      num_key_value_heads: d.kvHeads,
      head_dim: d.headDim,
      num_hidden_layers: d.layers,
      vocab_size: d.vocab,
      max_position_embeddings: 2048,
      rms_norm_eps: d.rmsNormEps,
      rope_theta: d.ropeTheta,
      tie_word_embeddings: false,
      bos_token_id: BPE_SPECIAL.bos,
      eos_token_id: BPE_SPECIAL.eos,
      pad_token_id: BPE_SPECIAL.pad,
      use_cache: !opts.withoutKvCache,
      dtype: 'float32',
    },
    generationConfig: {
      bos_token_id: BPE_SPECIAL.bos,
      eos_token_id: BPE_SPECIAL.eos,
      pad_token_id: BPE_SPECIAL.pad,
    },
    tokenizer: byteLevelBpeTokenizer(),
    tokenizerConfig: bpeTokenizerConfig('TokenizersBackend'),
  };
}
