import type { ModelGraph } from './model-graph.js';
import type { SeededRng } from './rng.js';

/**
 * How selected linear layers are stored:
 * - `matmulnbits`: com.microsoft `MatMulNBits`, 4-bit, block_size 32, asymmetric with packed zero points (the form
 *   onnxruntime's `MatMul4BitsQuantizer` writes, node `…/MatMul_Q4`, initializers `…_Q4`, `…_scales`, `…_zero_points`);
 * - `dynamic-int8`: `DynamicQuantizeLinear` + `MatMulInteger` + `Cast` + `Mul` (onnxruntime `quantize_dynamic`, int8
 *   per-tensor weights; one DynamicQuantizeLinear per activation, shared by every linear that reads it).
 */
export type QuantizeMode = 'matmulnbits' | 'dynamic-int8';

/** The graph form of one linear layer, so tests elsewhere know what to look for. */
export type LinearForm = 'matmul' | 'matmul-add' | 'gemm' | 'matmulnbits' | 'dynamic-int8';

/** One linear layer of a built model. */
export interface LinearInfo {
  /** PyTorch module path, e.g. `model.layers.0.mlp.gate_proj`. */
  module: string;
  /** Name of the node that multiplies by the weight (`…/MatMul`, `…/Gemm`, `…/MatMul_Q4`, `…/MatMul_quant`). */
  node: string;
  /** Initializer holding the (possibly quantized) weight. */
  weight: string;
  /** Initializer holding the bias, if any. */
  bias?: string;
  /** Name of the tensor that carries the layer's final output (after the bias Add). */
  output: string;
  dIn: number;
  dOut: number;
  form: LinearForm;
}

/** A model ready to be written by `writeModelDir`. */
export interface BuiltModel {
  /** `llama`, `qwen2`, `gpt2` or `bert`. */
  arch: string;
  config: Record<string, unknown>;
  generationConfig?: Record<string, unknown>;
  tokenizer: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  /** Serialized ModelProto (opset 17, weights inline). */
  onnx: Uint8Array;
  /** Every linear layer in graph order (lm_head / classifier included). */
  linears: LinearInfo[];
  /** KV-cache layout `[batch, kvHeads, seq, headDim]` per layer (decoders built with a cache). */
  cache?: { layers: number; kvHeads: number; headDim: number };
  /** Graph input and output names in order. */
  inputNames: string[];
  outputNames: string[];
}

/** Options every builder accepts. */
export interface CommonOptions {
  /** Hidden size. */
  hidden?: number;
  /** Number of transformer blocks. */
  layers?: number;
  /** Attention heads. */
  heads?: number;
  /** MLP inner size. */
  intermediate?: number;
  /** Vocabulary size (at least the tokenizer's size). */
  vocab?: number;
  /** PRNG seed: the same options give the same bytes. */
  seed?: number;
  /** Store selected linears quantized (see {@link QuantizeMode}); the underlying random weights do not change. */
  quantize?: QuantizeMode;
  /**
   * Which linears (by module path) to quantize when `quantize` is set; default: every linear inside the
   * transformer blocks (not embeddings, lm_head, pooler or classifier).
   */
  quantizeFilter?: (module: string) => boolean;
}

/** Shared state while one model is being built. */
export interface BuildContext {
  g: ModelGraph;
  rng: SeededRng;
  linears: LinearInfo[];
  quantize: QuantizeMode | undefined;
  quantizeFilter: (module: string) => boolean;
}
