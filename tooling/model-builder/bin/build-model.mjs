#!/usr/bin/env node
// Build a tiny random-weight transformers.js model directory for benches:
//   build-model.mjs <llama|qwen2|gpt2|bert> <outDir> [--hidden N] [--layers N] [--heads N] [--kv-heads N]
//     [--intermediate N] [--vocab N] [--seed N] [--quantize matmulnbits|dynamic-int8] [--without-kv-cache]
//     [--conv1d-form matmul|gemm] [--labels A,B,...]
//     [--form builder [--rotary in-attention|separate] [--qkv separate|packed] [--quantize q4]]  (llama, qwen2: onnxruntime-genai builder graph)
//     [--dtypes fp16,q4,q4f16,q8]  (also write onnx/model_fp16.onnx, … from the fp32 graph: see write-dtype.mjs)
// Needs the package built (`npx tsc -p tsconfig.build.json`).
import { parseArgs } from 'node:util';
import {
  buildBertForSequenceClassification,
  buildGpt2,
  buildLlama,
  buildLlamaBuilderForm,
  buildQwen2,
  buildQwen2BuilderForm,
  writeDtypeFile,
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
    form: { type: 'string' },
    rotary: { type: 'string' },
    qkv: { type: 'string' },
    dtypes: { type: 'string' },
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
  rotary: values.rotary,
  qkv: values.qkv,
};
for (const k of Object.keys(opts)) if (opts[k] === undefined) delete opts[k];
const builderForms = { llama: buildLlamaBuilderForm, qwen2: buildQwen2BuilderForm };
if (values.form !== undefined && values.form !== 'builder' && values.form !== 'torchscript') {
  console.error(`--form must be torchscript or builder, got ${values.form}`);
  process.exit(2);
}
if (values.form === 'builder' && !(arch in builderForms)) {
  console.error(`--form builder is for ${Object.keys(builderForms).join(', ')}, not ${arch}`);
  process.exit(2);
}
const built = (values.form === 'builder' ? builderForms[arch] : builders[arch])(opts);
await writeModelDir(outDir, built);
const mb = (built.onnx.length / 1048576).toFixed(2);
console.log(
  `${arch}: wrote ${outDir} (onnx ${mb} MiB, ${built.linears.length} linears, inputs ${built.inputNames.join(', ')})`,
);
for (const dtype of values.dtypes?.split(',') ?? []) {
  try {
    const { file, summary } = await writeDtypeFile(outDir, dtype);
    console.log(`${file}: ${summary}`);
  } catch (e) {
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
}
