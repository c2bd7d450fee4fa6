import { buildRotaryDecoderGraph, resolveRotaryDims, type RotaryDecoderOptions } from './rotary-decoder.js';
import { BPE_SPECIAL, BPE_VOCAB_SIZE, bpeTokenizerConfig, byteLevelBpeTokenizer } from './tokenizers.js';
import type { BuiltModel } from './types.js';

/** Options of {@link buildQwen2}. */
export type Qwen2Options = RotaryDecoderOptions;

const QWEN2 = { qkvBias: true, tiedEmbeddings: true, defaultEps: 1e-6 };

/**
 * A tiny random `Qwen2ForCausalLM`: the Llama graph with biased q/k/v projections (`MatMul` then
 * `Add(model.layers.{i}.self_attn.q_proj.bias, ·)`) and tied embeddings: `model.embed_tokens.weight` `[vocab,
 * hidden]` feeds the Gather, and its transpose is the lm_head weight `onnx::MatMul_N` `[hidden, vocab]`.
 */
export function buildQwen2(opts: Qwen2Options = {}): BuiltModel {
  const d = resolveRotaryDims(opts, QWEN2, BPE_VOCAB_SIZE);
  const graph = buildRotaryDecoderGraph(opts, QWEN2, d);
  return {
    arch: 'qwen2',
    ...graph,
    ...(opts.withoutKvCache ? {} : { cache: { layers: d.layers, kvHeads: d.kvHeads, headDim: d.headDim } }),
    config: {
      architectures: ['Qwen2ForCausalLM'],
      model_type: 'qwen2',
      hidden_act: 'silu',
      hidden_size: d.hidden,
      intermediate_size: d.intermediate,
      num_attention_heads: d.heads,
      num_key_value_heads: d.kvHeads,
      head_dim: d.headDim,
      num_hidden_layers: d.layers,
      vocab_size: d.vocab,
      max_position_embeddings: 2048,
      max_window_layers: d.layers,
      use_sliding_window: false,
      rms_norm_eps: d.rmsNormEps,
      rope_theta: d.ropeTheta,
      tie_word_embeddings: true,
      bos_token_id: BPE_SPECIAL.bos,
      eos_token_id: BPE_SPECIAL.eos,
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
