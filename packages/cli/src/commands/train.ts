import cliProgress from 'cli-progress';
import type { EvalMetrics, LoopState } from '@mor/trainer';
import { trainAdapter, type TrainAdapterOptions } from '@mor/trainer/node';
import { jsonOption, type CommandSpec } from '../command.js';
import type { Output } from '../output.js';
import {
  batchSizeOption,
  dataFlags,
  deviceOption,
  dtypeOption,
  maxLengthOption,
  modelOption,
  oneOf,
  optionalPositiveInt,
  optionalString,
  requiredString,
  optionalNumber,
  taskOption,
} from '../options.js';
import { adapterShapeFlags, adapterShapeOptions } from '../adapter-shape-options.js';

/** Every `mor train` flag, turned into {@link TrainAdapterOptions} (docs/cli.md). */
function trainOptions(options: Record<string, unknown>): TrainAdapterOptions {
  const o: TrainAdapterOptions = {
    model: requiredString(options, 'model'),
    data: requiredString(options, 'data'),
    out: requiredString(options, 'out'),
    ...adapterShapeFlags(options),
    ...dataFlags(options),
    shuffle: options.shuffle !== false,
    ...(options.gradientCheckpointing === true && { gradientCheckpointing: true }),
  };
  const set = <K extends keyof TrainAdapterOptions>(key: K, v: TrainAdapterOptions[K] | undefined): void => {
    if (v !== undefined) o[key] = v;
  };
  set('method', oneOf(options, 'method', '--method', ['mor', 'moelora', 'lora', 'full'] as const));
  set('optimizer', oneOf(options, 'optimizer', '--optimizer', ['adamw', 'sgd'] as const));
  set('schedule', oneOf(options, 'schedule', '--schedule', ['linear', 'cosine', 'constant'] as const));
  set('init', optionalString(options, 'init'));
  set('lr', optionalNumber(options, 'lr', '--lr'));
  set('weightDecay', optionalNumber(options, 'weightDecay', '--weight-decay'));
  set('maxGradNorm', optionalNumber(options, 'maxGradNorm', '--max-grad-norm'));
  set('warmupSteps', optionalPositiveInt(options, 'warmupSteps', '--warmup-steps'));
  set('gradAccum', optionalPositiveInt(options, 'gradAccum', '--grad-accum'));
  set('maxSteps', optionalPositiveInt(options, 'maxSteps', '--max-steps'));
  set('epochs', optionalPositiveInt(options, 'epochs', '--epochs'));
  set('device', optionalString(options, 'device'));
  set('dtype', optionalString(options, 'dtype'));
  set('lossScale', optionalNumber(options, 'lossScale', '--loss-scale'));
  set('evalData', optionalString(options, 'evalData'));
  set('saveEvery', optionalPositiveInt(options, 'saveEvery', '--save-every'));
  set('saveTotalLimit', optionalPositiveInt(options, 'saveTotalLimit', '--save-total-limit'));
  set('resume', optionalString(options, 'resume'));
  return o;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * Progress on stderr: a cli-progress bar (step, loss, tokens/s, ETA) on a terminal; elsewhere (CI logs, pipes)
 * about ten plain lines per run, so logs stay readable.
 */
function progressReporter(out: Output): { onStep: (s: LoopState) => void; stop: () => void } {
  // Rates are measured from the end of the first step, so model loading and graph building do not count.
  let t0 = 0;
  let firstStep = 0;
  let tokens = 0;
  let bar: cliProgress.SingleBar | null = null;
  const rates = (s: LoopState) => {
    if (t0 === 0) {
      [t0, firstStep] = [Date.now(), s.step];
      return { tps: NaN, eta: NaN };
    }
    tokens += s.tokens;
    const secs = (Date.now() - t0) / 1000;
    return {
      tps: tokens / Math.max(secs, 1e-3),
      eta: (secs / (s.step - firstStep)) * (s.totalSteps - s.step),
    };
  };
  const onStep = (s: LoopState): void => {
    const { tps, eta } = rates(s);
    const payload = {
      loss: s.loss.toFixed(4),
      tps: Number.isFinite(tps) ? tps.toFixed(0) : '?',
      etaText: duration(eta),
      lr: s.lr.toExponential(2),
    };
    if (process.stderr.isTTY) {
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: 'train |{bar}| {value}/{total} | loss {loss} | {tps} tok/s | ETA {etaText}',
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(s.totalSteps, s.step - 1, payload);
      }
      bar.update(s.step, payload);
      return;
    }
    const every = Math.max(1, Math.floor(s.totalSteps / 10));
    if (s.step % every === 0 || s.step === s.totalSteps || s.step === firstStep) {
      out.log(
        `step ${s.step}/${s.totalSteps}  loss ${payload.loss}  lr ${payload.lr}  ${payload.tps} tok/s  ETA ${payload.etaText}`,
      );
    }
  };
  return { onStep, stop: () => (bar as cliProgress.SingleBar | null)?.stop() };
}

function evalLine(m: EvalMetrics): string {
  return `loss ${m.loss.toFixed(4)}${m.accuracy !== undefined ? `, accuracy ${m.accuracy.toFixed(4)}` : ''}`;
}

export const trainCommand: CommandSpec = {
  summary: 'train a MoR (or MoELoRA, LoRA, or full) adapter on a JSONL file',
  options: [
    modelOption,
    {
      flags: '--data <file.jsonl>',
      description: 'training rows (text, prompt/completion, messages, input_ids, text+label)',
      required: true,
    },
    {
      flags: '--out <dir>',
      description: 'output directory (adapter, training_summary.json, checkpoints)',
      required: true,
    },
    taskOption,
    { flags: '--method <method>', description: 'mor (default), moelora, lora or full' },
    { flags: '--init <adapter-dir>', description: 'start from this adapter instead of a fresh init' },
    ...adapterShapeOptions,
    { flags: '--optimizer <name>', description: 'adamw (default) or sgd' },
    { flags: '--lr <lr>', description: 'peak learning rate (default 2e-4; 5e-5 for full)' },
    { flags: '--weight-decay <w>', description: 'weight decay (default 0)' },
    { flags: '--max-grad-norm <n>', description: 'clip the gradient norm (default: no clipping)' },
    { flags: '--schedule <kind>', description: 'learning-rate schedule: linear (default), cosine, constant' },
    { flags: '--warmup-steps <n>', description: 'linear warm-up steps (default 0)' },
    batchSizeOption('rows per micro-batch'),
    { flags: '--grad-accum <n>', description: 'micro-batches per optimizer step (default 1)' },
    {
      flags: '--gradient-checkpointing',
      description:
        "recompute each layer's activations in the backward: less memory, ~1 more forward per step",
    },
    { flags: '--max-steps <n>', description: 'optimizer steps to take' },
    { flags: '--epochs <n>', description: 'passes over the data when --max-steps is not given (default 3)' },
    maxLengthOption,
    deviceOption,
    dtypeOption,
    {
      flags: '--loss-scale <s>',
      description: 'initial dynamic loss scale for fp16/q4f16 models (default 65536, as PyTorch GradScaler)',
    },
    { flags: '--eval-data <file.jsonl>', description: 'held-out rows scored before and after training' },
    { flags: '--save-every <n>', description: 'write OUT/checkpoint-STEP every n steps' },
    {
      flags: '--save-total-limit <n>',
      description: 'keep only the newest n checkpoints (and the best by eval loss with --eval-data)',
    },
    { flags: '--resume <checkpoint-dir>', description: 'continue from a checkpoint (same settings)' },
    { flags: '--no-shuffle', description: 'keep the file order (default: reshuffle each epoch with --seed)' },
    jsonOption,
  ],
  async run(_args, options, out) {
    const o = trainOptions(options);
    const progress = progressReporter(out);
    let result;
    try {
      result = await trainAdapter(o, {
        onStep: progress.onStep,
        onLog: (line) => out.log(line),
        onEval: (phase, m) => out.log(`eval ${phase}: ${evalLine(m)}`),
      });
    } finally {
      progress.stop();
    }
    const summary = {
      out: result.out,
      steps: result.steps,
      epochs: result.epochs,
      train_loss_final: result.trainLossFinal,
      ...(result.evalBefore ? { eval_before: result.evalBefore } : {}),
      ...(result.evalAfter ? { eval_after: result.evalAfter } : {}),
    };
    if (options.json) {
      out.json(summary);
      return;
    }
    out.line(
      `trained ${result.steps} steps (${result.epochs.toFixed(2)} epochs), final train loss ${result.trainLossFinal.toFixed(4)}`,
    );
    if (result.evalBefore && result.evalAfter) {
      out.line(`eval before: ${evalLine(result.evalBefore)}`);
      out.line(`eval after:  ${evalLine(result.evalAfter)}`);
    }
    out.line(`adapter written to ${result.out}`);
  },
};
