// The part of the train-step engine (`TrainSession`, src/train) that the trainer drives, as an interface so the
// loop depends on the surface it uses, not on one engine.
import type { Adapter } from '@mor/format';

export type { TrainBatch, OptimizerSpec, OptimizerState, StepResult, EvalResult } from '../train/index.js';
import type { TrainBatch, OptimizerState, StepResult, EvalResult, HostTensor } from '../train/index.js';

/** The engine: one optimizer step per `step` call (after `gradAccum` micro-batches), evaluation without update. */
export interface TrainSessionLike {
  step(batch: TrainBatch, options: { lr: number }): Promise<StepResult>;
  evaluate(batch: TrainBatch): Promise<EvalResult>;
  readonly stepCount: number;
  /** The trained adapter (`mor` / `lora`). */
  getAdapter(): Promise<Adapter>;
  /** Every trained tensor by graph input name (base weights for `full`). */
  getParameters(): Promise<Map<string, HostTensor>>;
  getOptimizerState(): Promise<OptimizerState> | OptimizerState;
  setOptimizerState(state: OptimizerState): Promise<void> | void;
  dispose(): Promise<void> | void;
}
