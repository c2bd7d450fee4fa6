import { mkdir, readdir, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { TRAINING_SUMMARY_FILE, type Adapter } from '@mor/format';
import { findLinearLayers } from '@mor/onnx';
import { loadAdapter, saveAdapter } from '@mor/format/node';
import { lockDir } from './dir-lock.js';
import { encodeForSession, type SessionModel, TrainSession, type TrainSessionOptions } from '@mor/engine';
import type { Example } from '../data/encode-rows.js';
import { defaultTargets } from '../default-targets.js';
import { TrainConfigError } from '../errors.js';
import type { EvalMetrics } from '../eval/eval-metrics.js';
import { evaluateWithSession } from '../eval/evaluate-with-session.js';
import { initAdapterForModel } from '../init-adapter-for-model.js';
import type { TrainSessionLike } from '../session-types.js';
import { runTrainLoop, stepsForEpochs, type LoopState } from '../train-loop.js';
import {
  checkResumeSettings,
  checkpointDir,
  loadCheckpoint,
  resumeDtype,
  saveCheckpoint,
  type Checkpoint,
} from './checkpoint.js';
import { openTrainingModel, type TrainingModel } from './open-training-model.js';
import { setInitializers, writeFullModelDir } from './full-model-dir.js';
import { readDataFile, type DataFile } from './read-data-file.js';
import { rotateCheckpoints } from './rotate-checkpoints.js';
import { buildTrainingSummary, trainingSummaryJson, writeTrainingSummary } from './training-summary.js';
import { checkOptions } from '@mor/transformers';
import {
  optimizerSpec,
  resultSettings,
  scheduleFor,
  TRAIN_ADAPTER_OPTIONS,
  type TrainAdapterOptions,
} from './training-settings.js';

export type { TrainAdapterOptions } from './training-settings.js';

/** The lock file in `out` while a run writes there: a second run into the same directory is refused. */
export const TRAIN_LOCK_FILE = '.mor-train.lock';

/** Callbacks of {@link trainAdapter}: progress and logs (the CLI draws its bar from them). */
export interface TrainAdapterHooks {
  /** After every optimizer step. */
  onStep?: (state: LoopState) => void;
  /** Before and after training, when there is eval data. */
  onEval?: (phase: 'before' | 'after', metrics: EvalMetrics) => void;
  /** One-line notes (checkpoint written, resumed from …). */
  onLog?: (line: string) => void;
}

/** What {@link trainAdapter} did. */
export interface TrainAdapterResult {
  out: string;
  steps: number;
  epochs: number;
  trainLossFinal: number;
  evalBefore?: EvalMetrics;
  evalAfter?: EvalMetrics;
}

/** The external data files of an encoded model, as TrainSession's `externalData` reader takes them. */
function externalDataOf(model: SessionModel): (location: string) => Uint8Array {
  const files = new Map(model.externalData.map((f) => [f.path, f.data]));
  return (location) => {
    const data = files.get(location);
    if (!data) throw new Error(`external data "${location}" is not part of the encoded model`);
    return data;
  };
}

function startingAdapter(
  o: TrainAdapterOptions,
  m: TrainingModel,
  method: string,
): Promise<Adapter | undefined> | Adapter | undefined {
  if (method === 'full') return undefined;
  if (o.init !== undefined) {
    return loadAdapter(o.init).then((a) => {
      if (a.kind !== method)
        throw new TrainConfigError(`--init ${o.init} is a ${a.kind} adapter, but the method is ${method}`);
      return a;
    });
  }
  const targets = o.targets ?? defaultTargets(m.config['model_type']);
  if (!targets)
    throw new TrainConfigError(
      `no default targets for model type ${JSON.stringify(m.config['model_type'])}: give --targets`,
    );
  return initAdapterForModel({
    model: m.graph,
    targets,
    kind: method as 'mor' | 'moelora' | 'lora',
    ...(o.rank !== undefined ? { rank: o.rank } : {}),
    ...(o.alpha !== undefined ? { alpha: o.alpha } : {}),
    ...(o.experts !== undefined ? { experts: o.experts } : {}),
    topK: o.topK ?? null,
    routerBias: o.routerBias ?? false,
    seed: o.seed ?? 0,
    taskType: m.task === 'seq-cls' ? 'SEQ_CLS' : 'CAUSAL_LM',
    baseModel: m.name,
  });
}

/** `full` without `--targets`: every linear layer of the graph (by its last name part), lm_head included. */
function allLinearLeaves(m: TrainingModel): string[] {
  return [...new Set(findLinearLayers(m.graph).map((l) => l.modulePath.split('.').pop()!))];
}

function evalOptions(m: TrainingModel, examples: Example[], batchSize: number) {
  return { examples, task: m.task, padTokenId: m.padTokenId, batchSize };
}

/**
 * Trains an adapter (or base weights, `method: 'full'`) on a JSONL file and writes `OUT/adapter_config.json`,
 * `OUT/adapter_model.safetensors` (for `full`: a complete model directory with `onnx/model.onnx`) and
 * `OUT/training_summary.json`, with `OUT/checkpoint-STEP/` every `saveEvery` steps (at most `saveTotalLimit` of
 * them kept). Every data row is checked before the model is loaded. With `resume`, the run continues from a
 * checkpoint to the result an uninterrupted run would have reached (same settings required). While it runs, `out`
 * holds the lock file {@link TRAIN_LOCK_FILE}: a second run into the same directory is refused, naming the PID
 * holding it; the lock of a run that was killed is taken over, with a note.
 *
 * @throws {MorInputError} for an option it does not know (`max_steps`: did you mean `maxSteps`?).
 * @throws {DirLockedError} when another live run holds `out`'s lock.
 */
export async function trainAdapter(
  o: TrainAdapterOptions,
  hooks: TrainAdapterHooks = {},
): Promise<TrainAdapterResult> {
  checkOptions('trainAdapter', o, TRAIN_ADAPTER_OPTIONS);
  // One run at a time writes into `out`: a second is refused at once, before it loads anything.
  const created = await mkdir(o.out, { recursive: true });
  const lock = await lockDir(o.out, {
    file: TRAIN_LOCK_FILE,
    what: 'mor train run',
    ...(hooks.onLog ? { onNote: hooks.onLog } : {}),
  });
  try {
    return await trainInto(o, hooks);
  } finally {
    await lock.release();
    // A run that stopped before it wrote anything (a bad data row, …) leaves no directory it created behind.
    if (created !== undefined && (await readdir(o.out).catch(() => [o.out])).length === 0)
      await rm(created, { recursive: true, force: true });
  }
}

/** {@link trainAdapter} holding the lock of `o.out`. */
async function trainInto(o: TrainAdapterOptions, hooks: TrainAdapterHooks): Promise<TrainAdapterResult> {
  const method = o.method ?? 'mor';
  if (!['mor', 'moelora', 'lora', 'full'].includes(method))
    throw new TrainConfigError(`unknown method "${method}": expected mor, moelora, lora, full`);
  if (o.maxSteps !== undefined && o.epochs !== undefined)
    throw new TrainConfigError('give --max-steps or --epochs, not both');
  const limit = o.saveTotalLimit;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1))
    throw new TrainConfigError(`save total limit must be an integer ≥ 1, got ${limit}`);
  // The checkpoint first: a resume trains through the file the checkpoint was trained on (its dtype).
  const checkpoint: Checkpoint | undefined =
    o.resume !== undefined ? await loadCheckpoint(o.resume) : undefined;
  const dtype = checkpoint ? resumeDtype(o.dtype, checkpoint.state.settings, o.resume!) : o.dtype;
  // The base weights stay in their files, mapped by onnxruntime (held once), unless `full` trains them or the
  // session runs on wasm, which reads models from memory.
  const mapWeights = method !== 'full' && o.device !== 'wasm';
  const m = await openTrainingModel(o.model, o.task, dtype, { mapWeights });
  const encode = {
    task: m.task,
    tokenizer: m.tokenizer,
    label2id: m.label2id,
    ...(o.maxLength !== undefined ? { maxLength: o.maxLength } : {}),
    ...(m.numLabels !== undefined ? { numLabels: m.numLabels } : {}),
  };
  const data: DataFile = await readDataFile(o.data, encode);
  const evalData = o.evalData !== undefined ? await readDataFile(o.evalData, encode) : undefined;
  const batchSize = o.batchSize ?? 8;
  const gradAccum = o.gradAccum ?? 1;
  const totalSteps = o.maxSteps ?? stepsForEpochs(data.rows, batchSize, gradAccum, o.epochs ?? 3);
  const settings = resultSettings({ ...o, ...(dtype !== undefined && { dtype }) }, m.task, totalSteps);
  if (checkpoint) checkResumeSettings(checkpoint.state.settings, settings, o.resume!);
  const adapter = checkpoint ? (checkpoint.adapter ?? undefined) : await startingAdapter(o, m, method);
  // A full-method resume starts from the checkpoint's base weights, written into the graph the session is built from.
  if (checkpoint?.params) {
    setInitializers(m.graph, checkpoint.params);
    m.onnx = encodeForSession(m.graph);
  }
  const optimizer = optimizerSpec(o);
  // Opening takes a while on real-sized models (onnxruntime optimizes a graph of forward + backward + update).
  hooks.onLog?.(`building the ${method} train step on ${o.device ?? 'cpu'}…`);
  const opening = Date.now();
  const session: TrainSessionLike = await TrainSession.create({
    model: m.onnx.bytes,
    ...(m.externalDataDir !== undefined
      ? { externalDataDir: m.externalDataDir }
      : { externalData: externalDataOf(m.onnx) }),
    task: m.task,
    method,
    ...(adapter ? { adapter } : {}),
    optimizer,
    gradAccum,
    ...(o.gradientCheckpointing ? { gradientCheckpointing: true } : {}),
    dropoutSeed: o.seed ?? 0,
    ...(o.lossScale !== undefined ? { lossScaling: { initScale: o.lossScale } } : {}),
    ...(method === 'full' ? { fullTargets: o.targets ?? allLinearLeaves(m) } : {}),
    ...(o.device !== undefined ? { device: o.device as TrainSessionOptions['device'] } : {}),
  });
  hooks.onLog?.(`train session ready in ${((Date.now() - opening) / 1000).toFixed(1)} s`);
  try {
    if (checkpoint) {
      await session.setOptimizerState(checkpoint.optimizer);
      hooks.onLog?.(`resumed from ${o.resume} at step ${checkpoint.state.step}`);
    }
    const evalBatch = o.evalBatchSize ?? batchSize;
    let evalBefore = checkpoint?.state.eval_before ?? undefined;
    if (evalData && !evalBefore)
      evalBefore = await evaluateWithSession(session, evalOptions(m, evalData.examples, evalBatch));
    if (evalBefore) hooks.onEval?.('before', evalBefore);
    // With a save total limit and eval data, every checkpoint is scored so the best one can be kept.
    const scoreCheckpoints = o.saveTotalLimit !== undefined && evalData !== undefined;
    let best = {
      name: checkpoint?.state.best_checkpoint ?? null,
      loss: checkpoint?.state.best_eval_loss ?? Infinity,
    };
    const loop = await runTrainLoop({
      session,
      examples: data.examples,
      task: m.task,
      padTokenId: m.padTokenId,
      batchSize,
      gradAccum,
      totalSteps,
      schedule: scheduleFor(o, optimizer.lr, totalSteps),
      shuffle: o.shuffle ?? true,
      seed: o.seed ?? 0,
      ...(checkpoint ? { resume: { step: checkpoint.state.step, data: checkpoint.state.data } } : {}),
      onStep: (s) => {
        if (s.skipped)
          hooks.onLog?.(
            `step ${s.step}: float16 gradients overflowed at loss scale ${s.lossScale}; update skipped, scale halved`,
          );
        hooks.onStep?.(s);
      },
      ...(o.saveEvery !== undefined ? { saveEvery: o.saveEvery } : {}),
      onCheckpoint: async (s) => {
        const dir = checkpointDir(o.out, s.step);
        const evalLoss = scoreCheckpoints
          ? (await evaluateWithSession(session, evalOptions(m, evalData!.examples, evalBatch))).loss
          : null;
        // Strictly lower, as transformers compares: on a tie the earlier checkpoint stays the best.
        if (evalLoss !== null && evalLoss < best.loss) best = { name: basename(dir), loss: evalLoss };
        await saveCheckpoint(dir, {
          adapter: method === 'full' ? null : await session.getAdapter(),
          params: method === 'full' ? await session.getParameters() : null,
          optimizer: await session.getOptimizerState(),
          state: {
            step: s.step,
            total_steps: totalSteps,
            epoch: s.epochsDone,
            data: s.data,
            settings,
            loss: s.loss,
            eval_before: evalBefore ?? null,
            ...(evalLoss !== null
              ? { eval_loss: evalLoss, best_checkpoint: best.name, best_eval_loss: best.loss }
              : {}),
          },
        });
        hooks.onLog?.(
          `checkpoint written: ${dir}${evalLoss !== null ? ` (eval loss ${evalLoss.toFixed(4)})` : ''}`,
        );
        if (o.saveTotalLimit === undefined) return;
        // Only now that the new checkpoint is complete may older ones go.
        const removed = await rotateCheckpoints(o.out, o.saveTotalLimit, scoreCheckpoints ? best.name : null);
        if (removed.length > 0)
          hooks.onLog?.(`removed ${removed.join(', ')} (save total limit ${o.saveTotalLimit})`);
      },
    });
    const evalAfter = evalData
      ? await evaluateWithSession(session, evalOptions(m, evalData.examples, evalBatch))
      : undefined;
    if (evalAfter) hooks.onEval?.('after', evalAfter);
    const trained = method === 'full' ? null : await session.getAdapter();
    const trainLossFinal = loop.finalLoss;
    const summary = buildTrainingSummary({
      dataFile: o.data,
      data,
      evalFile: o.evalData,
      evalData,
      settings,
      adapter: trained,
      steps: loop.steps,
      epochs: loop.epochsDone,
      trainLossFinal,
      evalBefore,
      evalAfter,
    });
    // The adapter and its summary land together: a failed save (a full disk) leaves the previous pair whole.
    if (trained) {
      const alongside = { [TRAINING_SUMMARY_FILE]: trainingSummaryJson(summary) };
      await saveAdapter(o.out, trained, { alongside });
    } else {
      await writeFullModelDir(m.dir, o.out, m.graph, await session.getParameters());
      await writeTrainingSummary(o.out, summary);
    }
    return {
      out: o.out,
      steps: loop.steps,
      epochs: loop.epochsDone,
      trainLossFinal,
      ...(evalBefore ? { evalBefore } : {}),
      ...(evalAfter ? { evalAfter } : {}),
    };
  } finally {
    await session.dispose();
  }
}
