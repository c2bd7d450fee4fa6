// Command-line options of bench/train.mjs and its workers: `--name value`, numeric unless noted.
import { median, parseFlags } from '../lib/args.mjs';

export const TRAIN_DEFAULTS = {
  hidden: 256,
  layers: 4,
  heads: 4,
  kvHeads: 2,
  intermediate: 512,
  vocab: 4096,
  batch: 8,
  seq: 128,
  steps: 10,
  warmup: 2,
  threads: 2,
  r: 8,
  experts: 8,
  /** Top-k routing for MoR (0: dense, the paper's). */
  topK: 0,
  seed: 0,
  /** Execution provider of our engine (cpu, webgpu, cuda); PyTorch's baseline always runs on the CPU. */
  device: 'cpu',
  /** Graph form of the base: `torchscript` (optimum's export) or `builder` (onnxruntime-genai's model builder). */
  form: 'torchscript',
  /** 1: our sessions recompute each layer's activations in the backward (TrainSessionOptions.gradientCheckpointing). */
  gradientCheckpointing: 0,
};

/** transformers.js' dtype names `--dtype` / `--dtypes` take (bench/train-lib/model.mjs makes each form). */
const DTYPES = ['fp32', 'fp16', 'q8', 'q4', 'q4f16'];
/**
 * Parses `argv` against {@link TRAIN_DEFAULTS}; `--only a,b` and `--dtypes a,b` are lists,
 * `--json/--profile/--method/--device/--form/--ort/--dtype` strings. `dtypes` comes out resolved: fp32 first (the
 * baseline every other dtype's ratios are taken against, in the same invocation), then `--dtypes`, or `--dtype`.
 */
export function parseTrainArgs(argv) {
  const out = parseFlags(argv, TRAIN_DEFAULTS, {
    strings: ['json', 'profile', 'method', 'device', 'form', 'ort', 'modelDir', 'dtype'],
    lists: ['only', 'dtypes'],
  });
  const asked = out.dtypes ?? (out.dtype !== null ? [out.dtype] : []);
  for (const d of asked)
    if (!DTYPES.includes(d)) {
      console.error(`error: --dtype / --dtypes take ${DTYPES.join(', ')}, got ${d}`);
      process.exit(2);
    }
  out.dtypes = ['fp32', ...new Set(asked.filter((d) => d !== 'fp32'))];
  if (out.steps < 1) throw new Error('--steps must be at least 1');
  // `--ort '{"enableMemPattern":true}'`: onnxruntime session options over the engine's, to measure them.
  if (out.ort !== null) {
    try {
      out.ortOptions = JSON.parse(out.ort);
    } catch (error) {
      throw new Error(`--ort needs a JSON object of session options, got ${out.ort}: ${error.message}`);
    }
  }
  if (out.form !== 'torchscript' && out.form !== 'builder')
    throw new Error(`--form must be torchscript or builder, got ${out.form}`);
  return out;
}

export { median };

/** A causal-LM batch of `batchSize` rows of `seqLength` token ids (mask all ones, labels = ids: the loss shifts). */
export function lmBatch(ids, batchSize, seqLength) {
  return {
    inputIds: ids,
    attentionMask: new BigInt64Array(ids.length).fill(1n),
    labels: ids.slice(),
    batchSize,
    seqLength,
  };
}
