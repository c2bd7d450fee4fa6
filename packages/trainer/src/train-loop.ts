import { learningRate, type LrSchedule } from '@mor/onnx';
import { collateBatch } from './data/collate.js';
import { DataOrder, type DataPosition } from './data/data-order.js';
import type { Example, TrainTask } from './data/encode-rows.js';
import { TrainConfigError } from './errors.js';
import type { TrainSessionLike } from './session-types.js';

/** Where a run stands after an optimizer step: what a checkpoint records and progress reports. */
export interface LoopState {
  /** Optimizer steps taken (1-based after the first). */
  step: number;
  totalSteps: number;
  /** Epochs done, fractional. */
  epochsDone: number;
  data: DataPosition;
  /** Mean loss of this step's micro-batches (token-weighted for causal-lm). */
  loss: number;
  /** Tokens (causal-lm) or rows (seq-cls) in this step. */
  tokens: number;
  /** Learning rate used for this step. */
  lr: number;
  /** Float16 models (dynamic loss scaling): the scale of this step, and `skipped` when its gradients overflowed. */
  lossScale?: number;
  skipped?: true;
}

/** Options of {@link runTrainLoop}. */
export interface TrainLoopOptions {
  session: TrainSessionLike;
  examples: readonly Example[];
  task: TrainTask;
  padTokenId: number;
  /** Rows per micro-batch. */
  batchSize: number;
  /** Micro-batches per optimizer step (default 1); the session accumulates their gradients. */
  gradAccum?: number;
  /** Optimizer steps to take in total (counting steps a resumed run already took). */
  totalSteps: number;
  /** Learning-rate schedule, evaluated at each step (0-based) as HF's schedulers do. */
  schedule: LrSchedule;
  /** Shuffle each epoch (default true) with `seed`. */
  shuffle?: boolean;
  seed?: number;
  /** Continue from a checkpoint: the steps already taken and the data position then. */
  resume?: { step: number; data: DataPosition };
  /** Called after every optimizer step (progress bars, logs). */
  onStep?: (state: LoopState) => void;
  /** Save a checkpoint every this many steps (through `onCheckpoint`); 0 or absent: never. */
  saveEvery?: number;
  onCheckpoint?: (state: LoopState) => Promise<void>;
}

/** What {@link runTrainLoop} returns. */
export interface TrainLoopResult {
  steps: number;
  epochsDone: number;
  /** Loss of the last step. */
  finalLoss: number;
  /** Tokens (or rows) trained on over all steps of this run. */
  tokens: number;
}

/** Number of optimizer steps for `epochs` passes over `size` examples (the last micro-batch may be short). */
export function stepsForEpochs(size: number, batchSize: number, gradAccum: number, epochs: number): number {
  return Math.max(1, Math.ceil((epochs * Math.ceil(size / batchSize)) / gradAccum));
}

/**
 * The training loop: micro-batches in a seeded order, `gradAccum` of them per optimizer step at the scheduled
 * learning rate, progress and checkpoints after each step. Everything that decides the result — the data order
 * (a {@link DataOrder} restored from `resume.data`), the step count, the learning rate at each step — is a
 * function of the state a checkpoint saves, so a resumed run continues exactly where the saved one stood.
 */
export async function runTrainLoop(options: TrainLoopOptions): Promise<TrainLoopResult> {
  const { session, examples, totalSteps } = options;
  const gradAccum = options.gradAccum ?? 1;
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1)
    throw new TrainConfigError('batch size must be an integer ≥ 1');
  if (!Number.isInteger(gradAccum) || gradAccum < 1)
    throw new TrainConfigError('grad accumulation must be an integer ≥ 1');
  const order = new DataOrder(
    { size: examples.length, shuffle: options.shuffle ?? true, seed: options.seed ?? 0 },
    options.resume?.data,
  );
  let step = options.resume?.step ?? 0;
  if (step > totalSteps)
    throw new TrainConfigError(`the checkpoint is at step ${step}, past the ${totalSteps} steps asked for`);
  let finalLoss = NaN;
  let tokensSeen = 0;
  while (step < totalSteps) {
    const lr = learningRate(options.schedule, step);
    let lossSum = 0;
    let tokens = 0;
    let last: Awaited<ReturnType<TrainSessionLike['step']>> | undefined;
    for (let m = 0; m < gradAccum; m++) {
      const batch = collateBatch(
        order.next(options.batchSize).map((i) => examples[i]!),
        options,
      );
      const r = (last = await session.step(batch, { lr }));
      lossSum += r.loss * r.tokens;
      tokens += r.tokens;
    }
    step++;
    finalLoss = tokens > 0 ? lossSum / tokens : NaN;
    tokensSeen += tokens;
    const state: LoopState = {
      step,
      totalSteps,
      epochsDone: order.epochsDone,
      data: order.position(),
      loss: finalLoss,
      tokens,
      lr,
      ...(last?.lossScale !== undefined ? { lossScale: last.lossScale } : {}),
      ...(last?.skipped ? { skipped: true as const } : {}),
    };
    options.onStep?.(state);
    const every = options.saveEvery ?? 0;
    if (every > 0 && step % every === 0 && step < totalSteps) await options.onCheckpoint?.(state);
  }
  return { steps: step, epochsDone: order.epochsDone, finalLoss, tokens: tokensSeen };
}
