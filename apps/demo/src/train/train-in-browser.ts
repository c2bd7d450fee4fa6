// The seam between the demo and the in-browser training engine (autodiff over ONNX, issue 4), which is being
// built separately. The engine implements `TrainInBrowser` and registers itself with `registerTrainingEngine`;
// until it does, `trainingEngine()` returns null and the demo's Train button stays disabled with a note saying
// so. Nothing here fakes a loss.
import type { PreTrainedModel, PreTrainedTokenizer } from '@huggingface/transformers';
import type { MorAdapter } from '@mor/format';
import type { TrainExample } from '../data/multitask.js';
import type { DemoBackend } from '../runtime/backend.js';

/** Hyper-parameters the demo exposes. */
export interface TrainHyperParameters {
  steps: number;
  batchSize: number;
  learningRate: number;
  optimizer: 'adamw' | 'sgd';
  /** Fixes init, data order and dropout (mor-spec.md §4). */
  seed: number;
}

/** What the engine reports after every optimizer step (drives the live loss plot). */
export interface TrainStepReport {
  /** 1-based step number. */
  step: number;
  /** Mean token cross-entropy of the step's batch (completion tokens only). */
  loss: number;
  /** Tokens per second over the step. */
  tokensPerSecond: number;
  elapsedMs: number;
}

/** Everything {@link TrainInBrowser} gets. */
export interface TrainInBrowserOptions extends TrainHyperParameters {
  /** The base model, loaded by transformers.js (its recorded ONNX source is the graph to differentiate). */
  model: PreTrainedModel;
  tokenizer: PreTrainedTokenizer;
  backend: DemoBackend;
  /** The adapter to start from (its config and weights); the engine must not modify it in place. */
  initial: MorAdapter;
  examples: readonly TrainExample[];
  /** Aborting stops after the current step; the promise then resolves with the weights reached so far. */
  signal: AbortSignal;
  onStep: (report: TrainStepReport) => void;
}

/** What training returns: the trained adapter (download / attach it) and the loss of every step run. */
export interface TrainInBrowserResult {
  adapter: MorAdapter;
  losses: number[];
  stoppedEarly: boolean;
}

/** The interface the training engine implements. */
export type TrainInBrowser = (options: TrainInBrowserOptions) => Promise<TrainInBrowserResult>;

let engine: TrainInBrowser | null = null;

/** Called by the training engine's module when it is loaded, to make the Train button live. */
export function registerTrainingEngine(train: TrainInBrowser): void {
  engine = train;
}

/** The registered engine, or null while none exists (the UI then says "training engine not available yet"). */
export function trainingEngine(): TrainInBrowser | null {
  return engine;
}
