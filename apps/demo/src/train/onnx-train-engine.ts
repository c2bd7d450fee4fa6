// The in-browser training engine: @mor/engine's TrainSession (forward → loss → gradients → AdamW/SGD update
// as one ONNX graph, one `session.run` per step) on the page's own onnxruntime-web, driven by the trainer's loop
// (seeded data order, constant learning rate). Importing this module registers it with the training panel.
import type { MorAdapter } from '@mor/format';
import { TrainSession, type TrainBatch, type TrainStepResult } from '@mor/engine';
import { runTrainLoop, type TrainSessionLike } from '@mor/trainer';
import { encodeDataset, padTokenId } from './encode-dataset.js';
import { pageOrt } from './page-ort.js';
import {
  registerTrainingEngine,
  type TrainInBrowser,
  type TrainInBrowserOptions,
  type TrainInBrowserResult,
} from './train-in-browser.js';

/** Thrown by the session wrapper when Stop was pressed; ends the loop between two steps. */
class TrainingStopped extends Error {
  constructor() {
    super('training stopped');
    this.name = 'TrainingStopped';
  }
}

function maskTokens(batch: TrainBatch): number {
  let n = 0;
  for (const m of batch.attentionMask) n += Number(m);
  return n;
}

/**
 * Lets the page breathe between two steps. onnxruntime-web's `run` resolves without going back to the event loop
 * (wasm runs on this thread), so a loop of steps would keep clicks (Stop) and painting (the live loss plot)
 * waiting until training ends. One animation frame (the plot of the last step is painted), then a task (input
 * is handled); a hidden tab gets no frames, hence the timeout.
 */
function yieldToPage(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => resolve();
    requestAnimationFrame(() => setTimeout(done, 0));
    setTimeout(done, 100);
  });
}

/** What the last `step()` measured, read by the loop's `onStep` right after it. */
interface StepMeasure {
  tokens: number;
  ms: number;
}

/**
 * The session as the loop sees it, plus what the page measures: each step's wall time and input tokens, and a
 * stop check before every step (so Stop lands between steps, never mid-update).
 */
function measuredSession(session: TrainSession, signal: AbortSignal, last: StepMeasure): TrainSessionLike {
  return {
    get stepCount() {
      return session.stepCount;
    },
    async step(batch: TrainBatch, options: { lr: number }): Promise<TrainStepResult> {
      await yieldToPage();
      if (signal.aborted) throw new TrainingStopped();
      const started = performance.now();
      const result = await session.step(batch, options);
      last.ms = performance.now() - started;
      last.tokens = maskTokens(batch);
      if (!Number.isFinite(result.loss))
        throw new Error(`step ${session.stepCount}: the loss is ${result.loss}`);
      return result;
    },
    evaluate: (batch) => session.evaluate(batch),
    getAdapter: () => session.getAdapter(),
    getParameters: () => session.getParameters(),
    getOptimizerState: () => session.getOptimizerState(),
    setOptimizerState: (state) => session.setOptimizerState(state),
    dispose: () => session.dispose(),
  };
}

function checkOptions(o: TrainInBrowserOptions): void {
  const positiveInt = (v: number) => Number.isInteger(v) && v >= 1;
  if (!positiveInt(o.steps)) throw new RangeError(`steps must be an integer ≥ 1, got ${o.steps}`);
  if (!positiveInt(o.batchSize))
    throw new RangeError(`batch size must be an integer ≥ 1, got ${o.batchSize}`);
  if (!(o.learningRate > 0) || !Number.isFinite(o.learningRate))
    throw new RangeError(`the learning rate must be a positive number, got ${o.learningRate}`);
}

/** Trains `options.initial` on the examples; see {@link TrainInBrowser}. */
export const trainWithOnnxRuntime: TrainInBrowser = async (options) => {
  checkOptions(options);
  const started = performance.now();
  const ort = pageOrt(options.model as unknown as { sessions: Record<string, unknown> });
  options.onPhase?.('Tokenizing the data set…');
  const examples = encodeDataset(options.examples, options.tokenizer);
  options.onPhase?.(`Building the train-step graph and opening it on ${options.backend}…`);
  await yieldToPage(); // paint that line: the graph build below holds the thread for a few seconds
  const { externalData } = options.base;
  const session = await TrainSession.create({
    model: options.base.bytes,
    ...(externalData.size > 0
      ? {
          externalData: (location: string) => {
            const data = externalData.get(location);
            if (!data) throw new Error(`the model's external data file ${location} was not loaded`);
            return data;
          },
        }
      : {}),
    task: 'causal-lm',
    method: 'mor',
    adapter: options.initial,
    optimizer:
      options.optimizer === 'adamw'
        ? { kind: 'adamw', lr: options.learningRate, weightDecay: 0.01 }
        : { kind: 'sgd', lr: options.learningRate },
    device: options.backend,
    ort,
    dropoutSeed: options.seed,
  });
  const setupMs = performance.now() - started;
  const losses: number[] = [];
  const last: StepMeasure = { tokens: 0, ms: 0 };
  let tokens = 0;
  let stepMs = 0;
  let stoppedEarly = false;
  try {
    options.onPhase?.('Training…');
    try {
      await runTrainLoop({
        session: measuredSession(session, options.signal, last),
        examples,
        task: 'causal-lm',
        padTokenId: padTokenId(options.tokenizer),
        batchSize: options.batchSize,
        totalSteps: options.steps,
        schedule: { kind: 'constant', lr: options.learningRate },
        seed: options.seed,
        onStep: (state) => {
          losses.push(state.loss);
          tokens += last.tokens;
          stepMs += last.ms;
          options.onStep({
            step: state.step,
            loss: state.loss,
            tokens: last.tokens,
            targetTokens: state.tokens,
            tokensPerSecond: last.ms > 0 ? (last.tokens * 1000) / last.ms : 0,
            stepMs: last.ms,
            elapsedMs: performance.now() - started,
            lr: state.lr,
          });
        },
      });
    } catch (error) {
      if (!(error instanceof TrainingStopped)) throw error;
      stoppedEarly = true;
    }
    options.onPhase?.('Copying the trained adapter from the device…');
    const adapter = (await session.getAdapter()) as MorAdapter;
    const result: TrainInBrowserResult = {
      adapter,
      losses,
      stoppedEarly,
      setupMs,
      elapsedMs: performance.now() - started,
      tokens,
      stepMs,
    };
    return result;
  } finally {
    await session.dispose();
  }
};

registerTrainingEngine(trainWithOnnxRuntime);
