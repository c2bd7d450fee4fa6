#!/usr/bin/env node
// Build a tiny random-weight transformers.js model directory for benches:
//   build-model.mjs <llama|qwen2|gpt2|bert> <outDir> [--hidden N] [--layers N] [--heads N] [--kv-heads N]
//     [--intermediate N] [--vocab N] [--seed N] [--quantize matmulnbits|dynamic-int8] [--without-kv-cache]
//     [--conv1d-form matmul|gemm] [--labels A,B,...]
// Needs the package built (`npx tsc -p tsconfig.build.json`).
import { parseArgs } from 'node:util';
import {
  buildBertForSequenceClassification,
  buildGpt2,
  buildLlama,
  buildQwen2,
  writeModelDir,
} from '../dist/index.js';

const builders = {
  llama: buildLlama,
  qwen2: buildQwen2,
  gpt2: buildGpt2,
  bert: buildBertForSequenceClassification,
};
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    hidden: { type: 'string' },
    layers: { type: 'string' },
    heads: { type: 'string' },
    'kv-heads': { type: 'string' },
    intermediate: { type: 'string' },
    vocab: { type: 'string' },
    seed: { type: 'string' },
    quantize: { type: 'string' },
    'without-kv-cache': { type: 'boolean' },
    'conv1d-form': { type: 'string' },
    labels: { type: 'string' },
  },
});
const [arch, outDir] = positionals;
if (!arch || !outDir || !(arch in builders)) {
  console.error(`usage: build-model.mjs <${Object.keys(builders).join('|')}> <outDir> [--hidden N ...]`);
  process.exit(2);
}
const int = (name) => {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, got ${v}`);
    process.exit(2);
  }
  return n;
};
const opts = {
  hidden: int('hidden'),
  layers: int('layers'),
  heads: int('heads'),
  kvHeads: int('kv-heads'),
  intermediate: int('intermediate'),
  vocab: int('vocab'),
  seed: int('seed'),
  quantize: values.quantize,
  withoutKvCache: values['without-kv-cache'],
  conv1dForm: values['conv1d-form'],
  labels: values.labels?.split(','),
};
for (const k of Object.keys(opts)) if (opts[k] === undefined) delete opts[k];
const built = builders[arch](opts);
await writeModelDir(outDir, built);
const mb = (built.onnx.length / 1048576).toFixed(2);
console.log(
  `${arch}: wrote ${outDir} (onnx ${mb} MiB, ${built.linears.length} linears, inputs ${built.inputNames.join(', ')})`,
);
