// The part of the train-step engine (@mor/engine's `TrainSession`) that the trainer drives, as an interface so the
// loop depends on the surface it uses, not on one engine.
import type { Adapter } from '@mor/format';
import type {
  TrainBatch,
  OptimizerState,
  TrainStepResult as StepResult,
  TrainEvalResult as EvalResult,
  HostTensor,
} from '@mor/engine';

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
