import type { TrainingSummary } from '@mor/format';
import { DATASET_NAME } from './encode-dataset.js';
import type { TrainHyperParameters, TrainInBrowserResult } from './train-in-browser.js';

/** What {@link trainingSummary} records about a run besides its result. */
export interface SummaryRun extends TrainHyperParameters {
  backend: string;
  modelId: string;
  /** `fresh` (initAdapterForModel with `seed`) or `loaded` (the adapter the page had). */
  init: 'fresh' | 'loaded';
  rows: number;
}

const round = (v: number, digits = 6) => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * training_summary.json for the downloaded adapter, in the schema `mor train` writes (@mor/format
 * `TrainingSummary`, so `mor push` and the model card read it): every number is what the run measured.
 */
export function trainingSummary(run: SummaryRun, result: TrainInBrowserResult): TrainingSummary {
  const { losses } = result;
  const c = result.adapter.config;
  const training: Record<string, string | number | boolean> = {
    trainer: 'mor demo (in-browser, onnxruntime-web)',
    base_model: run.modelId,
    backend: run.backend,
    init: run.init,
    optimizer: run.optimizer,
    learning_rate: run.learningRate,
    lr_schedule: 'constant',
    batch_size: run.batchSize,
    seed: run.seed,
    steps_requested: run.steps,
    steps: losses.length,
    stopped_early: result.stoppedEarly,
    r: c.r,
    alpha: c.alpha,
    experts: c.experts,
    targets: c.targets.join(','),
    setup_ms: Math.round(result.setupMs),
    elapsed_ms: Math.round(result.elapsedMs),
    step_ms_total: Math.round(result.stepMs),
  };
  const metrics: Record<string, number> = {};
  if (losses.length > 0) {
    metrics['train_loss_first'] = round(losses[0]!);
    metrics['train_loss_final'] = round(losses.at(-1)!);
  }
  return { data: { file: DATASET_NAME, rows: run.rows, tokens: result.tokens }, training, metrics };
}
