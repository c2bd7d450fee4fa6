import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSafetensors, serializeSafetensors, tensorToFloat32, type Adapter } from '@mor/format';
import { loadAdapter, saveAdapter, writeFilesAtomic } from '@mor/format/node';
import { DTYPE_SUFFIXES, writeDirAtomic } from '@mor/transformers/node';
import type { DataPosition } from '../data/data-order.js';
import type { EvalMetrics } from '../eval/eval-metrics.js';
import { TrainConfigError } from '../errors.js';
import type { OptimizerState } from '@mor/engine';
import type { HostTensor } from '@mor/engine';

/** File names inside `OUT/checkpoint-STEP/` (beside the adapter files). */
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const TRAINER_STATE_FILE = 'trainer_state.json';
/** `full` checkpoints: the trained base weights. */
export const PARAMS_FILE = 'model_params.safetensors';

/** `trainer_state.json`: where the run stood, and the settings a resume must share to give the same result. */
export interface TrainerState {
  /** Optimizer steps taken. */
  step: number;
  total_steps: number;
  /** Epochs done, fractional. */
  epoch: number;
  /** Data position with the shuffle generator's state at the start of the epoch. */
  data: DataPosition;
  /** Settings that decide the result; a resume with other values is refused. */
  settings: Record<string, string | number | boolean | null>;
  /** Loss of the step just taken. */
  loss: number;
  /** Eval metrics before training, carried over so a resumed run's summary still shows the change. */
  eval_before?: EvalMetrics | null;
  /** Eval loss of this checkpoint's weights (scored when a save total limit keeps the best). */
  eval_loss?: number | null;
  /** The checkpoint folder (`checkpoint-STEP`) with the lowest eval loss so far, and that loss. */
  best_checkpoint?: string | null;
  best_eval_loss?: number | null;
}

/** Everything a checkpoint holds. */
export interface Checkpoint {
  /** The adapter (`mor` / `lora`), or null for `full`, whose weights are in `params`. */
  adapter: Adapter | null;
  /** `full`: the trained base weights by initializer name; null otherwise. */
  params: Map<string, HostTensor> | null;
  optimizer: OptimizerState;
  state: TrainerState;
}

/** `OUT/checkpoint-STEP` */
export function checkpointDir(out: string, step: number): string {
  return join(out, `checkpoint-${step}`);
}

function toSafetensors(entries: [string, HostTensor][], metadata?: Record<string, string>): Uint8Array {
  const tensors = entries.map(([name, t]) => ({
    name,
    dtype: 'F32' as const,
    shape: [...t.dims],
    data: t.data,
  }));
  return serializeSafetensors(tensors, metadata);
}

async function readTensors(
  path: string,
): Promise<{ tensors: Map<string, HostTensor>; metadata: Record<string, string> }> {
  const bytes = await readFile(path).catch((e: Error) => {
    throw new TrainConfigError(`${path}: cannot read the checkpoint tensors (${e.message})`);
  });
  const file = parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
    fileName: path,
  });
  const tensors = new Map<string, HostTensor>();
  for (const [name, t] of file.tensors)
    tensors.set(name, { dims: [...t.shape], data: Float32Array.from(tensorToFloat32(t)) });
  return { tensors, metadata: file.metadata };
}

/**
 * Writes a checkpoint directory atomically (all files into a temporary directory, then one rename), so a run
 * killed mid-save leaves either the whole checkpoint or none. The optimizer tensors go to one safetensors file
 * with the step (and, for float16 models, the loss scale and its growth tracker) in its metadata.
 */
export async function saveCheckpoint(dir: string, checkpoint: Checkpoint): Promise<void> {
  const scaler = checkpoint.optimizer.lossScale;
  const optimizerBytes = toSafetensors(Object.entries(checkpoint.optimizer.tensors), {
    step: String(checkpoint.optimizer.step),
    // Float16 models: dynamic loss scaling's state, so a resumed run scales and skips as an uninterrupted one.
    ...(scaler
      ? { loss_scale: String(scaler.scale), loss_scale_growth_tracker: String(scaler.growthTracker) }
      : {}),
  });
  const paramBytes = checkpoint.params ? toSafetensors([...checkpoint.params]) : null;
  await writeDirAtomic(
    dir,
    async (tmp) => {
      if (checkpoint.adapter) await saveAdapter(tmp, checkpoint.adapter);
      await writeFilesAtomic([
        ...(paramBytes ? [{ path: join(tmp, PARAMS_FILE), data: paramBytes }] : []),
        { path: join(tmp, OPTIMIZER_FILE), data: optimizerBytes },
        { path: join(tmp, TRAINER_STATE_FILE), data: `${JSON.stringify(checkpoint.state, null, 2)}\n` },
      ]);
    },
    { overwrite: true },
  );
}

/** Reads a checkpoint written by {@link saveCheckpoint}; a missing or unreadable part is a {@link TrainConfigError}. */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const statePath = join(dir, TRAINER_STATE_FILE);
  let state: TrainerState;
  try {
    state = JSON.parse(await readFile(statePath, 'utf8')) as TrainerState;
  } catch (e) {
    throw new TrainConfigError(`${statePath}: cannot read the trainer state (${(e as Error).message})`);
  }
  if (!Number.isInteger(state.step) || typeof state.data !== 'object' || state.data === null) {
    throw new TrainConfigError(`${statePath}: not a trainer state (no step / data position)`);
  }
  const opt = await readTensors(join(dir, OPTIMIZER_FILE));
  const scale = opt.metadata['loss_scale'];
  const optimizer: OptimizerState = {
    step: Number(opt.metadata['step'] ?? state.step),
    tensors: Object.fromEntries(opt.tensors),
    ...(scale !== undefined
      ? {
          lossScale: {
            scale: Number(scale),
            growthTracker: Number(opt.metadata['loss_scale_growth_tracker'] ?? 0),
          },
        }
      : {}),
  };
  const full = await stat(join(dir, PARAMS_FILE)).catch(() => null);
  if (full)
    return { adapter: null, params: (await readTensors(join(dir, PARAMS_FILE))).tensors, optimizer, state };
  return { adapter: await loadAdapter(dir), params: null, optimizer, state };
}

/**
 * The dtype a resumed run trains through: the checkpoint's (`settings.dtype`, so `--resume` alone picks the file
 * it was trained on), `asked` when the checkpoint predates the field (default fp32). An `asked` dtype other than
 * the checkpoint's is refused, naming both files: the adapter was trained against another base.
 */
export function resumeDtype(asked: string | undefined, saved: TrainerState['settings'], dir: string): string {
  const was = saved['dtype'];
  if (typeof was !== 'string') return asked ?? 'fp32';
  if (asked !== undefined && asked !== was) {
    const file = (d: string) => `onnx/model${DTYPE_SUFFIXES[d] ?? `_${d}`}.onnx`;
    throw new TrainConfigError(
      `cannot resume from ${dir}: it was trained through dtype ${was} (${file(was)}), not ${asked} (${file(asked)}); drop --dtype to resume on ${was}`,
    );
  }
  return was;
}

/** Refuses a resume whose result-deciding settings differ from the checkpoint's, naming each difference. */
export function checkResumeSettings(
  saved: TrainerState['settings'],
  now: TrainerState['settings'],
  dir: string,
): void {
  const diffs = Object.keys(now)
    .filter((k) => k in saved && saved[k] !== now[k])
    .map((k) => `${k} ${JSON.stringify(saved[k])} → ${JSON.stringify(now[k])}`);
  if (diffs.length > 0) {
    throw new TrainConfigError(
      `cannot resume from ${dir}: settings differ from the checkpoint's (${diffs.join('; ')})`,
    );
  }
}
