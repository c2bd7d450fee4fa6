import type { LrSchedule } from '@mor/onnx';
import type { TrainTask } from '../data/encode-rows.js';
import type { OptionNames } from '@mor/transformers';
import { TrainConfigError } from '../errors.js';
import type { OptimizerSpec } from '@mor/engine';

/** Options of `trainAdapter` (docs/cli.md `mor train`); every field but `model`, `data`, `out` has a default. */
export interface TrainAdapterOptions {
  /** Local transformers.js model directory (or Hub id); the training graph is its `onnx/model.onnx`. */
  model: string;
  /**
   * transformers.js dtype of the graph to train through (default fp32: `onnx/model.onnx`); `q4` trains through
   * `onnx/model_q4.onnx`, its 4-bit base frozen (QLoRA); `q8` through `onnx/model_quantized.onnx` (int8 base,
   * straight-through gradient past the activation's rounding); `fp16` / `q4f16` through `model_fp16.onnx` /
   * `model_q4f16.onnx` (float16 base, float32 loss and adapter, dynamic loss scaling as PyTorch's GradScaler).
   * Recorded in checkpoints: with `resume` the default is the checkpoint's dtype, and another one is refused.
   */
  dtype?: string;
  /**
   * Initial loss scale of the dynamic loss scaling float16 models train with (fp16 / q4f16; default 2^16, as
   * PyTorch's GradScaler): a step whose float16 gradients overflow is skipped and the scale halves.
   */
  lossScale?: number;
  /** JSONL training data (docs/cli.md "Data rows"). */
  data: string;
  /** Output directory: the adapter, training_summary.json and `checkpoint-STEP/` folders. */
  out: string;
  /** Default from the model's config (`*ForSequenceClassification` → seq-cls), else causal-lm. */
  task?: TrainTask;
  /** `mor` (default), `moelora`, `lora` or `full`. */
  method?: 'mor' | 'moelora' | 'lora' | 'full';
  /** Start from this adapter directory instead of a fresh init. */
  init?: string;
  /** Fresh init: target module names (default PEFT's for the model type), rank (8), alpha (2·r), experts (4), top-k, router bias. */
  targets?: string[];
  rank?: number;
  alpha?: number;
  experts?: number;
  topK?: number | null;
  routerBias?: boolean;
  /** `adamw` (default; betas 0.9/0.999, eps 1e-8) or `sgd` (plain `p ← p − lr·∂L/∂p`). */
  optimizer?: 'adamw' | 'sgd';
  /** Peak learning rate (default 2e-4; 5e-5 for `full`, HF's default). */
  lr?: number;
  /** Decoupled weight decay (default 0, as HF). */
  weightDecay?: number;
  /** Clip the global gradient norm (default: no clipping, so one SGD step is checkable against autograd). */
  maxGradNorm?: number | null;
  /** `linear` (default, HF's), `cosine` or `constant`, after `warmupSteps` (default 0) of linear warm-up. */
  schedule?: LrSchedule['kind'];
  warmupSteps?: number;
  /** Rows per micro-batch (default 8) and micro-batches per optimizer step (default 1). */
  batchSize?: number;
  gradAccum?: number;
  /**
   * Recompute each decoder layer's activations in the backward instead of keeping them (transformers'
   * `gradient_checkpointing`): less memory for about one more forward per step, the same result (default false;
   * not a result setting, so a resume may turn it on or off).
   */
  gradientCheckpointing?: boolean;
  /** Stop after this many optimizer steps; else `epochs` passes over the data (default 3, HF's). */
  maxSteps?: number;
  epochs?: number;
  /** Truncate rows to this many tokens (special tokens kept). */
  maxLength?: number;
  /** Fixes init, data order and dropout (default 0). */
  seed?: number;
  /** Shuffle the data each epoch (default true). */
  shuffle?: boolean;
  /** `cpu` (default in Node), `cuda`, `webgpu`. */
  device?: string;
  /** Held-out JSONL data scored before and after training. */
  evalData?: string;
  /** Rows per evaluation batch (default: batchSize). */
  evalBatchSize?: number;
  /** Write `OUT/checkpoint-STEP/` every this many steps. */
  saveEvery?: number;
  /**
   * Keep at most this many `checkpoint-STEP/` folders in `out`, deleting the oldest once a new one is completely
   * written (transformers' `save_total_limit`). With `evalData`, each checkpoint is scored and the best one (lowest
   * eval loss) is always kept: the newest `saveTotalLimit - 1` beside it, or the newest one with a limit of 1.
   * Default: keep all.
   */
  saveTotalLimit?: number;
  /** Continue from a checkpoint directory; the result equals an uninterrupted run's. */
  resume?: string;
}

/** The option names of {@link TrainAdapterOptions}, checked at run time by `trainAdapter`. */
export const TRAIN_ADAPTER_OPTIONS = {
  model: true,
  data: true,
  out: true,
  task: true,
  method: true,
  init: true,
  targets: true,
  rank: true,
  alpha: true,
  experts: true,
  topK: true,
  routerBias: true,
  optimizer: true,
  lr: true,
  weightDecay: true,
  maxGradNorm: true,
  schedule: true,
  warmupSteps: true,
  batchSize: true,
  gradAccum: true,
  gradientCheckpointing: true,
  maxSteps: true,
  epochs: true,
  maxLength: true,
  seed: true,
  shuffle: true,
  device: true,
  evalData: true,
  evalBatchSize: true,
  saveEvery: true,
  saveTotalLimit: true,
  resume: true,
  dtype: true,
  lossScale: true,
} satisfies OptionNames<TrainAdapterOptions>;

/** The resolved optimizer for the session. */
export function optimizerSpec(o: TrainAdapterOptions): OptimizerSpec {
  const lr = o.lr ?? (o.method === 'full' ? 5e-5 : 2e-4);
  if (!(lr > 0) || !Number.isFinite(lr))
    throw new TrainConfigError(`learning rate must be a positive number, got ${lr}`);
  const kind = o.optimizer ?? 'adamw';
  if (kind !== 'adamw' && kind !== 'sgd')
    throw new TrainConfigError(`unknown optimizer "${String(kind)}": expected adamw, sgd`);
  const spec: OptimizerSpec = {
    kind,
    lr,
    weightDecay: o.weightDecay ?? 0,
    maxGradNorm: o.maxGradNorm ?? null,
  };
  if (kind === 'adamw') Object.assign(spec, { betas: [0.9, 0.999] as [number, number], eps: 1e-8 });
  return spec;
}

/** The learning-rate schedule over `totalSteps`. */
export function scheduleFor(o: TrainAdapterOptions, lr: number, totalSteps: number): LrSchedule {
  const kind = o.schedule ?? 'linear';
  if (!['linear', 'cosine', 'constant'].includes(kind)) {
    throw new TrainConfigError(`unknown schedule "${kind}": expected linear, cosine, constant`);
  }
  return { kind, lr, warmupSteps: o.warmupSteps ?? 0, totalSteps };
}

/**
 * The settings that decide a run's result, recorded in every checkpoint: a resume must give the same values
 * (else it could not continue to the same result) and is refused otherwise.
 */
export function resultSettings(
  o: TrainAdapterOptions,
  task: TrainTask,
  totalSteps: number,
): Record<string, string | number | boolean | null> {
  const opt = optimizerSpec(o);
  return {
    task,
    method: o.method ?? 'mor',
    dtype: o.dtype ?? 'fp32',
    optimizer: opt.kind,
    lr: opt.lr,
    weight_decay: opt.weightDecay ?? 0,
    schedule: o.schedule ?? 'linear',
    warmup_steps: o.warmupSteps ?? 0,
    total_steps: totalSteps,
    batch_size: o.batchSize ?? 8,
    grad_accum: o.gradAccum ?? 1,
    max_length: o.maxLength ?? null,
    seed: o.seed ?? 0,
    shuffle: o.shuffle ?? true,
  };
}
