#!/usr/bin/env node
// Training throughput and memory: MoR against LoRA in our engine (TrainSession: one train-step ONNX graph per
// step, onnxruntime-node CPU, AdamW), and the same model shapes, adapters and optimizer in PyTorch on the CPU
// (bench/torch_train.py). Every variant runs in its own child process, so each peak RSS (VmHWM) is its own.
//
//   node bench/train.mjs [--hidden 256 --layers 4 --heads 4 --kv-heads 2 --intermediate 512 --vocab 4096 \
//     --batch 8 --seq 128 --steps 10 --warmup 2 --threads 2 --r 8 --experts 8 --top-k 0 --seed 0 \
//     --only mor,lora,pair,torch-mor,torch-lora --device cpu|webgpu|cuda --form torchscript|builder \
//     --dtype fp16|q8|q4|q4f16 | --dtypes fp32,fp16,q8,q4,q4f16 --json out.json --profile <dir>]
//
// `--gradient-checkpointing 1`: our sessions recompute each decoder layer's activations in the backward
// (TrainSessionOptions.gradientCheckpointing); compare with a run without it (bench/README.md).
// `--form builder` trains through the onnxruntime-genai model-builder graph of the same weights
// (GroupQueryAttention, SkipSimplifiedLayerNorm; decomposed for the train graph); PyTorch is unaffected.
// `--dtype D` / `--dtypes a,b` also train through those transformers.js forms of the same weights (fp16, q8, q4,
// q4f16; train-lib/model.mjs), each against fp32 in the same invocation (fp32 always runs); without `--only`
// only MoR and LoRA run then (per dtype).
//
// Build the packages first (`npm run build`). PyTorch comes from Debian: `apt-get install -y python3-torch
// libopenblas0-pthread` (without OpenBLAS torch links the reference BLAS and is 5-7x slower).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTrainModel, dtypeModel, writeTrainModel } from './train-lib/model.mjs';
import { formatReport } from './train-lib/report.mjs';
import { parseTrainArgs } from './train-lib/args.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const o = parseTrainArgs(process.argv.slice(2));

const VARIANTS = {
  mor: { label: 'ours MoR', run: () => node('mor') },
  lora: { label: 'ours LoRA', run: () => node('lora') },
  // Both in one process, steps alternating: the MoR/LoRA step-time ratio, steady on a shared machine.
  pair: { label: 'ours MoR vs LoRA, interleaved', run: () => node('mor+lora') },
  'torch-mor': { label: 'PyTorch MoR', run: () => python('mor') },
  'torch-lora': { label: 'PyTorch LoRA', run: () => python('lora') },
};

const common = () => [
  ...['hidden', 'layers', 'heads', 'kvHeads', 'intermediate', 'vocab', 'batch', 'seq', 'steps', 'warmup']
    .concat(['threads', 'r', 'experts', 'topK', 'seed'])
    .flatMap((k) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(o[k])]),
];

function child(cmd, args, env = {}) {
  const res = spawnSync(cmd, args, {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (res.error) return { error: res.error.message };
  const line = res.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (res.status !== 0 || !line)
    return { error: `exit ${res.status ?? res.signal}: ${res.stdout.slice(-500)}` };
  return JSON.parse(line.slice('RESULT '.length));
}

// The model is built here once and written as a model directory (weights in external data); every worker opens
// it as a user's process opens a model: the builder's own garbage (weights as arrays, then encoded: ~4x the
// model's bytes for a moment) is not training's, and the weights are mapped by onnxruntime, not read into JS.
const modelDir = mkdtempSync(join(tmpdir(), 'mor-bench-train-'));
process.on('exit', () => rmSync(modelDir, { recursive: true, force: true }));
// With other dtypes than fp32, only MoR and LoRA run unless `--only` says otherwise; each of them per dtype.
const only = o.only ?? (o.dtypes.length > 1 ? ['mor', 'lora'] : Object.keys(VARIANTS));
const ourVariants = only.some((v) => !v.startsWith('torch'));
const dtypeDir = (dtype) => join(modelDir, dtype);
if (ourVariants) {
  const fp32 = buildTrainModel(o);
  for (const dtype of o.dtypes) {
    process.stderr.write(`writing the ${dtype} model…\n`);
    const { built, transform } = dtypeModel(o, dtype, fp32);
    await writeTrainModel(dtypeDir(dtype), built, transform);
  }
}

function node(method, dtype = 'fp32') {
  const args = [`${here}train-lib/worker.mjs`, '--method', method, '--device', o.device, '--form', o.form];
  args.push('--model-dir', dtypeDir(dtype), '--dtype', dtype);
  args.push(...common(), '--gradient-checkpointing', String(o.gradientCheckpointing));
  if (o.profile && !method.includes('+')) args.push('--profile', o.profile);
  if (o.ort !== null) args.push('--ort', o.ort);
  return child(process.execPath, args);
}

function python(method) {
  // The BLAS pool must not exceed the thread count we give onnxruntime.
  const threads = String(o.threads);
  const env = { OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads, MKL_NUM_THREADS: threads };
  // Debian's python3-torch lives under /usr/bin/python3 (a pyenv python3 on PATH would not see it); PYTHON overrides.
  const python = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  return child(python, [`${here}torch_train.py`, '--method', method, ...common()], env);
}

// The other dtypes: MoR and LoRA (those in `only`) through each form, named `mor:q4`, `lora:q4`, ….
for (const dtype of o.dtypes.slice(1))
  for (const method of ['mor', 'lora'])
    VARIANTS[`${method}:${dtype}`] = {
      label: `ours ${method === 'mor' ? 'MoR' : 'LoRA'} ${dtype}`,
      run: () => node(method, dtype),
    };
const names = [
  ...only,
  ...o.dtypes
    .slice(1)
    .flatMap((d) => only.filter((v) => v === 'mor' || v === 'lora').map((v) => `${v}:${d}`)),
];

const results = {};
for (const name of names) {
  const v = VARIANTS[name];
  if (!v) throw new Error(`unknown variant ${name} (known: ${Object.keys(VARIANTS).join(', ')})`);
  process.stderr.write(`running ${v.label}…\n`);
  results[name] = { label: v.label, dtype: name.split(':')[1] ?? 'fp32', ...v.run() };
}
console.log(formatReport(o, results));
if (o.json) writeFileSync(o.json, JSON.stringify({ options: o, results }, null, 2));
