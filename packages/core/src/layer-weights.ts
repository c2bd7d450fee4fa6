/**
 * The parameters of one MoR layer, as row-major float32 arrays (mor-spec.md §1). This is the exchange type
 * between the reference math, the file format and the graph emitters.
 */
export interface MorLayerWeights {
  readonly dIn: number;
  readonly dOut: number;
  readonly r: number;
  readonly experts: number;
  /** `[r, d_in]` shared down-projection. */
  readonly A: Float32Array;
  /** `[d_out, r]` shared up-projection. */
  readonly B: Float32Array;
  /** `[N, r]` per-expert rank scaling. */
  readonly omegaA: Float32Array;
  /** `[N, d_out]` per-expert output scaling. */
  readonly omegaB: Float32Array;
  /** `[N, d_in]` router weight. */
  readonly routerWeight: Float32Array;
  /** `[N]` router bias, or null when the config has `routerBias: false`. */
  readonly routerBias: Float32Array | null;
}

/** The parameters of one plain LoRA layer: `delta = scaling · B · A · x`. */
export interface LoraLayerWeights {
  readonly dIn: number;
  readonly dOut: number;
  readonly r: number;
  /** `[r, d_in]`. */
  readonly A: Float32Array;
  /** `[d_out, r]`. */
  readonly B: Float32Array;
}

/**
 * {@link MorLayerWeights} with float32 or float64 arrays: what the reference math reads. Every
 * `MorLayerWeights` is one; float64 copies serve gradient checks (central differences need more than float32).
 */
export interface MorLayerParams {
  readonly dIn: number;
  readonly dOut: number;
  readonly r: number;
  readonly experts: number;
  readonly A: Float32Array | Float64Array;
  readonly B: Float32Array | Float64Array;
  readonly omegaA: Float32Array | Float64Array;
  readonly omegaB: Float32Array | Float64Array;
  readonly routerWeight: Float32Array | Float64Array;
  readonly routerBias: Float32Array | Float64Array | null;
}
