import type { Adapter } from '@mor/format';
import type { OrtModuleLike, OrtSessionLike, OrtTensorLike } from '../ort-types.js';
import type { GradScalerState, LossScalingOptions } from './grad-scaler.js';

/** One (micro-)batch of token rows, all of the same length. */
export interface TrainBatch {
  /** `[batchSize, seqLength]` token ids. */
  inputIds: BigInt64Array;
  /** `[batchSize, seqLength]`, 1 for real tokens, 0 for padding. */
  attentionMask: BigInt64Array;
  /**
   * causal-lm: `[batchSize, seqLength]` token ids, -100 ignored, NOT shifted (the loss shifts: logits at t
   * predict labels at t+1). seq-cls: `[batchSize]` class ids (-100 ignores a row).
   */
  labels: BigInt64Array;
  /** `[batchSize, seqLength]` segment ids for models that take `token_type_ids` (BERT); zeros when absent. */
  tokenTypeIds?: BigInt64Array;
  batchSize: number;
  seqLength: number;
}

/** Optimizer and its fixed hyper-parameters (the learning rate is given per step). */
export interface OptimizerSpec {
  kind: 'sgd' | 'adamw';
  /** Nominal learning rate (the trainer's schedule peak); each `step()` call passes the rate it uses. */
  lr: number;
  /** SGD: coupled L2 penalty (default 0). AdamW: decoupled decay (default 0.01, as torch). */
  weightDecay?: number;
  /** AdamW (β1, β2); default (0.9, 0.999). */
  betas?: [number, number];
  /** AdamW ε; default 1e-8. */
  eps?: number;
  /** SGD momentum (default 0: plain SGD, no state). */
  momentum?: number;
  /** Clip gradients to this global L2 norm before the update; null/undefined: no clipping. */
  maxGradNorm?: number | null;
}

/** The onnxruntime module training uses (`onnxruntime-node`, `onnxruntime-web`): the package's one typing. */
export type TrainOrt = OrtModuleLike;

/** An onnxruntime tensor, as the rest of the package types it. */
export type TrainOrtTensor = OrtTensorLike;

/** An onnxruntime session, as the rest of the package types it. */
export type TrainOrtSession = OrtSessionLike;

/** Options of {@link TrainSession.create}. */
export interface TrainSessionOptions {
  /** ONNX bytes of the base model: a no-KV export, or a KV-cache export (empty past is fed, present dropped). */
  model: Uint8Array;
  /** External data files of `model` by location (as in the model's `location` keys). */
  externalData?: (location: string) => Uint8Array | Promise<Uint8Array>;
  /**
   * Node (onnxruntime-node; not `wasm`), instead of `externalData`: the directory of `model`'s external data
   * files. They are not read into memory: the session's files link to them and onnxruntime maps them, so the
   * base weights are held once, by onnxruntime (options that must read weight values, `full`, refuse them).
   */
  externalDataDir?: string;
  /**
   * The train and eval graphs hold the base weights: tensors of at least this many bytes (default 1 MiB) reach
   * onnxruntime as external data — through a temporary directory that onnxruntime maps, in Node (not for
   * `wasm`), else in memory — so graphs past protobuf's 2 GiB load, and large ones load fast.
   */
  externalDataThreshold?: number;
  /** `causal-lm` (loss on `logits` [B,T,V] against shifted labels) or `seq-cls` (`logits` [B, num_labels]). */
  task: 'causal-lm' | 'seq-cls';
  /** What trains: a MoR, MoELoRA or LoRA adapter, or selected base weights (`fullTargets`). */
  method: 'mor' | 'moelora' | 'lora' | 'full';
  /** Initial adapter weights for `mor` / `moelora` / `lora` (from `@mor/format`); its kind must match `method`. */
  adapter?: Adapter;
  /**
   * `full` only: what to train. Each entry is an initializer name, or a module-path suffix (`q_proj`,
   * `model.layers.0.mlp.up_proj`) selecting the weight of every linear layer it matches.
   */
  fullTargets?: string[];
  optimizer: OptimizerSpec;
  /**
   * `cpu` (Node default), `webgpu` (parameters and optimizer state stay in GPU buffers between steps), `cuda`,
   * `wasm` (browser; in Node too when `ort` is onnxruntime-web). Checked at create: an unknown name fails listing
   * the valid ones.
   */
  device?: string;
  /**
   * The onnxruntime module (`onnxruntime-node` in Node, `onnxruntime-web` in a browser); default: the one
   * transformers.js uses (onnxruntime-node in Node).
   */
  ort?: TrainOrt;
  /** Micro-batches per update (default 1). The update uses the loss over all of them (token-weighted). */
  gradAccum?: number;
  /**
   * Gradient checkpointing, as transformers' Trainer offers it: of the forward's activations only the tensors
   * crossing decoder layers (the residual stream) are kept; the backward recomputes each layer's forward from
   * them (@mor/onnx autodiff/checkpointing.ts). The same gradients and updates; fewer activations alive at once
   * (bench/README.md "Gradient checkpointing"), for about one more forward per step. Default false.
   */
  gradientCheckpointing?: boolean;
  /** Coefficient of the router load-balancing loss (mor-spec §1); default: the adapter config's, else 0. */
  routerAuxLossCoef?: number;
  /** Seed of the adapter-input dropout masks (used only when the adapter's `dropout` > 0). Default 0. */
  dropoutSeed?: number;
  /** Also return each step's raw (unclipped, micro-batch) gradients from `step()` — for tests and debugging. */
  outputGradients?: boolean;
  /**
   * Dynamic loss scaling (grad-scaler.ts, PyTorch's GradScaler): the backward starts from `loss · scale`, the
   * float32 adapter gradients are unscaled, a step whose gradients overflow is skipped and the scale backs off.
   * Default: on, with GradScaler's defaults, when the model computes in float16 (its `logits` are float16: fp16 /
   * q4f16 files); off otherwise. `false` turns it off.
   */
  lossScaling?: LossScalingOptions | false;
  /**
   * Extra onnxruntime session options for the train and eval sessions (`intraOpNumThreads`,
   * `interOpNumThreads`, `enableProfiling`, …). They override the memory defaults (session-options.ts
   * `TRAIN_MEMORY_OPTIONS`: no weight prepacking, no memory pattern) and give way to what the session must set
   * (execution provider, output locations).
   */
  sessionOptions?: Record<string, unknown>;
  /**
   * Called as each part of `create` ends, with its wall milliseconds: `decode` (the model's bytes parsed),
   * `graph` (adapter, loss, gradients, optimizer built), `encode` (the train and eval graphs serialized), `open`
   * (onnxruntime's session created: its graph optimizer, kernels, allocation plan), `state` (parameters and
   * optimizer state uploaded). For progress displays and for bench/train.mjs, which samples memory there.
   */
  onSetupPhase?: (phase: SetupPhase, ms: number) => void;
}

/** The parts of `TrainSession.create`, in order (see `TrainSessionOptions.onSetupPhase`). */
export type SetupPhase = 'decode' | 'graph' | 'encode' | 'open' | 'state';

/** What one `step()` reports. */
export interface StepResult {
  /** The task loss (mean cross-entropy) of this micro-batch, before the update. */
  loss: number;
  /** Label positions that counted (causal-lm: shifted, non-ignored; seq-cls: non-ignored rows). */
  tokens: number;
  /** The router load-balancing loss (mean over adapted layers) when its coefficient is > 0. */
  auxLoss?: number;
  /** Global gradient norm before clipping, when clipping is on and this step updated. */
  gradNorm?: number;
  /** Whether this call applied an update (false for the first k−1 micro-batches of an accumulation). */
  updated: boolean;
  /**
   * With loss scaling: the scale this step's loss was multiplied by, and `skipped` when its gradients overflowed,
   * so parameters and optimizer state were left as they were (`updated` stays true: the step was taken and
   * skipped, as GradScaler does; `stepCount` does not advance, so AdamW's bias correction counts applied steps).
   */
  lossScale?: number;
  skipped?: boolean;
  /** Raw gradients by parameter name (with `outputGradients`). */
  gradients?: Record<string, Float32Array>;
}

/** What `evaluate()` reports (no update). */
export interface EvalResult {
  loss: number;
  tokens: number;
  /** seq-cls: rows whose arg-max logit equals the label. */
  correct?: number;
  /** Rows (seq-cls) or label positions (causal-lm) that counted. */
  count: number;
}

/** A float tensor downloaded from the device. */
export interface HostTensor {
  dims: number[];
  data: Float32Array;
}

/** Optimizer state for checkpoints (`--resume`). */
export interface OptimizerState {
  /** Updates applied so far (AdamW's t). */
  step: number;
  /** State tensors by input name: `opt.m.<param>`, `opt.v.<param>`, `opt.momentum.<param>`. */
  tensors: Record<string, HostTensor>;
  /** Dynamic loss scaling's scale and growth tracker (float16 models), so a resumed run skips as the first did. */
  lossScale?: GradScalerState;
}

export type { Adapter };
