// The seam between the demo and the in-browser training engine. The engine (`onnx-train-engine.ts`: TrainSession
// from @mor/engine on the page's onnxruntime-web) implements `TrainInBrowser` and registers itself with
// `registerTrainingEngine` when its module loads; without a registered engine `trainingEngine()` returns null and
// the Train button stays disabled with a note saying so. Nothing here fakes a loss.
import type { PreTrainedModel, PreTrainedTokenizer } from '@huggingface/transformers';
import type { MorAdapter } from '@mor/format';
import type { TrainExample } from '../data/multitask.js';
import type { BaseModelSource } from '../model/base-model-source.js';
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
  /** Input tokens of the step's batch (attention-mask ones: padding not counted). */
  tokens: number;
  /** Label positions the loss was averaged over (completion tokens). */
  targetTokens: number;
  /** `tokens` divided by the wall time of the step's `session.run` (measured, not estimated). */
  tokensPerSecond: number;
  /** Wall time of this step's train-step run. */
  stepMs: number;
  /** Wall time since training started (graph build and session creation included). */
  elapsedMs: number;
  /** Learning rate used for this step. */
  lr: number;
}

/** Everything {@link TrainInBrowser} gets. */
export interface TrainInBrowserOptions extends TrainHyperParameters {
  /** The base model, loaded by transformers.js (its sessions tell which onnxruntime instance the page runs). */
  model: PreTrainedModel;
  /** The base ONNX graph transformers.js loaded: what the train step is built from. */
  base: BaseModelSource;
  tokenizer: PreTrainedTokenizer;
  backend: DemoBackend;
  /** The adapter to start from (its config and weights); the engine must not modify it in place. */
  initial: MorAdapter;
  examples: readonly TrainExample[];
  /** Aborting stops after the current step; the promise then resolves with the weights reached so far. */
  signal: AbortSignal;
  onStep: (report: TrainStepReport) => void;
  /** Progress before the first step (tokenizing, building the train graph, creating the session). */
  onPhase?: (text: string) => void;
}

/** What training returns: the trained adapter (download / attach it) and the loss of every step run. */
export interface TrainInBrowserResult {
  adapter: MorAdapter;
  losses: number[];
  stoppedEarly: boolean;
  /** Building the train graph and creating the onnxruntime session. */
  setupMs: number;
  /** Everything, setup and the adapter's download from the device included. */
  elapsedMs: number;
  /** Input tokens (non-padding) over all steps. */
  tokens: number;
  /** Sum of the steps' train-step run times (what `tokens` were processed in). */
  stepMs: number;
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
