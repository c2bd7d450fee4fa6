/** How a linear layer is computed in the graph. */
export type LinearKind =
  /** `MatMul(x, W)`; with a bias `Add` after it this is also how GPT-2's Conv1D and biased nn.Linear export. */
  | 'matmul'
  /** `Gemm(x, W, C)` (transA = 0), 2-D input. */
  | 'gemm'
  /** `com.microsoft.MatMulNBits` (block-quantized weight, attributes K and N). */
  | 'matmul-nbits'
  /** `DynamicQuantizeLinear` → `MatMulInteger` → `Cast`/`Mul` by the scales (onnxruntime dynamic quantization). */
  | 'matmul-integer';

/**
 * Storage layout of the base weight: `[d_in,d_out]` for MatMul (and GPT-2 Conv1D, Gemm transB=0),
 * `[d_out,d_in]` for Gemm transB=1 or a MatMul reading its weight through a Transpose; `quantized` otherwise.
 */
export type WeightLayout = '[d_in,d_out]' | '[d_out,d_in]' | 'quantized';

/** One linear layer found in a graph by {@link findLinearLayers}. */
export interface LinearLayer {
  /** Module path from node or initializer names, e.g. `m.model.layers.0.mlp.gate_proj` (scope prefix kept). */
  modulePath: string;
  kind: LinearKind;
  dIn: number;
  dOut: number;
  /** Value holding the float input x (`[..., d_in]`); for `matmul-integer`, the input of DynamicQuantizeLinear. */
  input: string;
  /** Value holding the float layer output (`[..., d_out]`, bias not included when a separate Add adds it). */
  output: string;
  /** Name of the node producing {@link output}. */
  outputNode: string;
  /** Names of the nodes that make up the layer (matmul node first). */
  nodes: string[];
  /** Initializer holding the base weight (quantized data for quantized kinds). */
  weight: string;
  weightLayout: WeightLayout;
  /** The Transpose node between the weight initializer and the MatMul, when there is one. */
  weightTranspose?: string;
  /** The `Add` node adding a constant bias `[d_out]` right after the MatMul, when there is one. */
  biasAdd?: string;
  /** The weight initializer is read by other nodes too (never modify it in place). */
  shared: boolean;
  quantized: boolean;
  /** Element type of x and of the output. */
  dtype: 'float32' | 'float16';
  /** Gemm's `alpha` (1 for other kinds): the layer computes `alpha · x·W'`. */
  alpha: number;
  /**
   * Set when this layer is one projection of a packed one: q, k or v of onnxruntime-genai's `attn/qkv_proj`
   * (read as packed QKV by `GroupQueryAttention`, or split after). It then shares the packed layer's input,
   * weight, output and nodes, and covers output columns `[offset, offset + dOut)` of `packedDOut`.
   */
  part?: { packed: string; offset: number; packedDOut: number };
}
