#!/usr/bin/env node
// Inference speed of MoR / LoRA adapters on transformers.js (CPU, fp32), against the base model measured in the
// same process. See bench/README.md.
//
//   node bench/inference.mjs [--hidden 512 --layers 8 --prompt-tokens 128 --new-tokens 64 --repeats 3 --threads N]
//     [--dtype fp16]   (the fp16 file of the same weights: the adapter branch in float32 between Casts vs in float16)
//     [--device cpu|cuda|webgpu]   (transformers.js' device for every variant; bench/gpu/run.sh uses cuda and webgpu)
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AutoModelForCausalLM, Tensor, env } from '@huggingface/transformers';
import { buildLlama, convertFloatType, toDtype, writeModelDir } from '@mor/model-builder';
import { createRng } from '@mor/core';
import { applyAdapter, decodeModel, encodeModelBytes, mergeStaticGate } from '@mor/onnx';
import { attachAdapter, forwardLogits, loadWithAdapter } from '@mor/transformers';
import { makeLoraAdapter, makeMorAdapter, targetLinears } from './lib/adapters.mjs';
import { llamaShape, parseArgs } from './lib/args.mjs';
import { LEGEND, formatTable, summarize } from './lib/report.mjs';

const o = parseArgs(process.argv.slice(2));
const log = (...a) => console.error(...a);

// ---- model and adapters -------------------------------------------------------------------------------------
const root = await mkdtemp(join(tmpdir(), 'mor-bench-'));
const built = buildLlama(llamaShape(o));
await writeModelDir(join(root, 'base'), built);
const linears = targetLinears(built);
const mor4 = makeMorAdapter(linears, { r: 8, experts: 4, seed: o.seed + 1 });
const mor8 = makeMorAdapter(linears, { r: 8, experts: 8, seed: o.seed + 2 });
const mor8top2 = makeMorAdapter(linears, { r: 8, experts: 8, topK: 2, seed: o.seed + 2 });
const lora = makeLoraAdapter(linears, { r: 8, seed: o.seed + 3 });

/** A model directory beside `base` whose ONNX graph (`file`) is the base graph changed by `edit`. */
async function writeEditedDir(name, edit, file = 'model.onnx') {
  const graph = await decodeModel(built.onnx);
  edit(graph);
  await mkdir(join(root, name, 'onnx'), { recursive: true });
  for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'])
    await copyFile(join(root, 'base', f), join(root, name, f));
  await writeFile(join(root, name, 'onnx', file), encodeModelBytes(graph));
}
// Static gate (mor-spec.md §3): MoR N4 with a uniform gate, merged exactly into the base weights.
const uniform = new Array(4).fill(1 / 4);
await writeEditedDir('merged', (g) => mergeStaticGate(g, mor4, uniform));
// attachAdapter builds the folded inference form (@mor/onnx applyAdapter `foldExperts`). For comparison, the
// unfolded form (the one training differentiates: B_exp built in the graph), loaded as a plain model.
await writeEditedDir('mor4-unfolded', (g) => applyAdapter(g, mor4));
await writeEditedDir('mor8-unfolded', (g) => applyAdapter(g, mor8));
await writeEditedDir('mor8top2-unfolded', (g) => applyAdapter(g, mor8top2));

// target `dynamic` (input-dependent routing): ≤ 1.2× base decode time; `merged`: within ±2 % of base.
// sameAs: a variant that must give the same logits (checked, printed beside max|Δlogit|).
let variants = [
  { name: 'base', dir: 'base' },
  { name: 'LoRA r8 (live)', dir: 'base', adapter: lora },
  { name: 'MoR r8 N4 dense', dir: 'base', adapter: mor4, target: 'dynamic' },
  { name: 'MoR r8 N8 dense', dir: 'base', adapter: mor8, target: 'dynamic' },
  { name: 'MoR r8 N8 top-2', dir: 'base', adapter: mor8top2, target: 'dynamic' },
  { name: 'MoR r8 N4 dense, unfolded', dir: 'mor4-unfolded', sameAs: 'MoR r8 N4 dense' },
  { name: 'MoR r8 N8 dense, unfolded', dir: 'mor8-unfolded', sameAs: 'MoR r8 N8 dense' },
  { name: 'MoR r8 N8 top-2, unfolded', dir: 'mor8top2-unfolded', sameAs: 'MoR r8 N8 top-2' },
  { name: 'MoR r8 N4 static (branch)', dir: 'base', adapter: mor4, gate: uniform },
  { name: 'MoR r8 N4 static merged', dir: 'merged', target: 'merged', sameAs: 'MoR r8 N4 static (branch)' },
];
// --dtype fp16: the base's fp16 file (every float tensor float16, model-builder toDtype) with the MoR adapter two
// ways: attachAdapter's float32 branch between Casts, or the branch itself in float16 (the adapter folded into the
// fp32 graph, then the whole graph converted). Exactness against the float32 twin (float16-rounded weights) with
// the same adapter: max |Δlogit| / max |logit| in the check column.
const half = o.dtype === 'fp16';
if (half) {
  await writeEditedDir('base', (g) => toDtype(g, 'fp16'), 'model_fp16.onnx');
  await writeEditedDir('twin', (g) => (toDtype(g, 'fp16'), convertFloatType(g, 'float32')));
  const fp16Branch = (a) => (g) => (
    applyAdapter(g, a, { foldExperts: true }),
    convertFloatType(g, 'float16')
  );
  await writeEditedDir('mor4-fp16-branch', fp16Branch(mor4), 'model_fp16.onnx');
  await writeEditedDir('lora-fp16-branch', fp16Branch(lora), 'model_fp16.onnx');
  variants = [
    { name: 'base fp16', dir: 'base', dtype: 'fp16' },
    { name: 'LoRA r8, fp32 branch (Casts)', dir: 'base', dtype: 'fp16', adapter: lora, twin: lora },
    { name: 'LoRA r8, fp16 branch', dir: 'lora-fp16-branch', dtype: 'fp16', twin: lora },
    { name: 'MoR r8 N4 dense, fp32 branch (Casts)', dir: 'base', dtype: 'fp16', adapter: mor4, twin: mor4 },
    { name: 'MoR r8 N4 dense, fp16 branch', dir: 'mor4-fp16-branch', dtype: 'fp16', twin: mor4 },
  ];
}
if (o.only) variants = variants.filter((v, i) => i === 0 || o.only.some((s) => v.name.includes(s)));

// ---- load ---------------------------------------------------------------------------------------------------
env.localModelPath = root;
env.allowRemoteModels = false;
env.allowLocalModels = true;
const loadOptions = {
  dtype: 'fp32',
  device: o.device,
  session_options: { intraOpNumThreads: o.threads, interOpNumThreads: 1 },
};
for (const v of variants) {
  const t0 = performance.now();
  v.model = await loadWithAdapter(AutoModelForCausalLM, v.dir, { ...loadOptions, dtype: v.dtype ?? 'fp32' });
  if (v.adapter) await attachAdapter(v.model, v.adapter, v.gate ? { gate: v.gate } : {});
  log(`loaded ${v.name} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

// ---- inputs -------------------------------------------------------------------------------------------------
const rng = createRng(o.seed + 100);
const promptIds = Array.from({ length: o.promptTokens }, () => 3 + (rng.nextUint32() % 381)); // BPE vocab 384
const input_ids = new Tensor('int64', BigInt64Array.from(promptIds, BigInt), [1, promptIds.length]);
const attention_mask = new Tensor('int64', new BigInt64Array(promptIds.length).fill(1n), [
  1,
  promptIds.length,
]);

/**
 * Times every `session.run` of the model (wall and process CPU time): onnxruntime's work for one forward pass,
 * without transformers.js' per-step JavaScript (logits processing, bookkeeping), the same for every variant.
 */
function timeSessionRuns(v) {
  const session = v.model.sessions.model;
  const run = session.run.bind(session);
  session.run = async (...args) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await run(...args);
    v.runs.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    v.runsCpu.push((c.user + c.system) / 1000);
    return out;
  };
}

/** One greedy generate() of exactly `n` new tokens (EOS suppressed); returns its wall time. */
async function generate(v, n) {
  Object.assign(v, { runs: [], runsCpu: [] });
  const t0 = performance.now();
  await v.model.generate({
    input_ids,
    attention_mask,
    max_new_tokens: n,
    min_new_tokens: n,
    do_sample: false,
  });
  return performance.now() - t0;
}

// Sanity: every adapter changes the logits; folded and merged graphs compute what their reference variant does.
const logitsOf = async (v) => (await forwardLogits(v.model, [promptIds.slice(0, 16)])).data;
const maxDiff = (a, b) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
const baseLogits = await logitsOf(variants[0]);
for (const v of variants) {
  const logits = await logitsOf(v);
  v.logitDiff = maxDiff(logits, baseLogits);
  const ref = variants.find((w) => w.name === v.sameAs);
  if (ref) v.check = ` [= ${ref.name}: ${maxDiff(logits, await logitsOf(ref)).toExponential(1)}]`;
  if (v.twin) {
    const twin = await loadWithAdapter(AutoModelForCausalLM, 'twin', loadOptions);
    await attachAdapter(twin, v.twin);
    const t = await logitsOf({ model: twin });
    const scale = t.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    v.check = ` [vs fp32 twin: ${(maxDiff(logits, t) / scale).toExponential(1)} rel]`;
    await twin.dispose();
  }
}

// ---- measure ------------------------------------------------------------------------------------------------
log(`warming up (${variants.length} variants)…`);
for (const v of variants) {
  timeSessionRuns(v);
  await generate(v, Math.min(8, o.newTokens));
  Object.assign(v, { prefill: [], steps: [], stepsCpu: [], e2e: [] });
}
for (let rep = 0; rep < o.repeats; rep++) {
  // Rotate the order every repeat so slow drift (thermal, other processes) hits every variant alike.
  const order = variants.map((_, i) => variants[(i + rep) % variants.length]);
  for (const v of order) {
    const wall = await generate(v, o.newTokens);
    if (v.runs.length !== o.newTokens)
      throw new Error(`${v.name}: ${v.runs.length} passes for ${o.newTokens} tokens`);
    v.prefill.push(v.runs[0]); // the prompt pass, which also yields the first new token
    v.steps.push(...v.runs.slice(1)); // one pass per further token, with the KV cache
    v.stepsCpu.push(...v.runsCpu.slice(1));
    v.e2e.push(wall - v.runs[0]);
    // Two more prompt passes: one sample per repeat is too few for a stable prefill median.
    for (let i = 0; i < 2; i++) {
      await generate(v, 1);
      v.prefill.push(v.runs[0]);
    }
  }
  log(`repeat ${rep + 1}/${o.repeats} done (load average ${loadavg()[0].toFixed(2)})`);
}

// ---- report -------------------------------------------------------------------------------------------------
const rows = summarize(variants, o);
console.log(
  `\nLlama hidden ${o.hidden}, ${o.layers} layers, ${o.heads} heads / ${o.kvHeads} KV heads, intermediate ` +
    `${o.intermediate}, vocab ${o.vocab}; prompt ${o.promptTokens} tokens, ${o.newTokens} new tokens, batch 1; ` +
    `${o.dtype} on ${o.device}, ${o.threads} intra-op thread(s) on ${cpus().length} CPUs (load average ${loadavg()[0].toFixed(1)}); ` +
    `median of ${o.repeats} interleaved repeats. Adapters on q,k,v,o,gate,up,down (${linears.length} layers).\n`,
);
console.log(formatTable(rows));
console.log(`\n${LEGEND}`);
if (o.json) await writeFile(o.json, `${JSON.stringify({ options: o, rows }, null, 2)}\n`);
for (const v of variants) await v.model.dispose();
await rm(root, { recursive: true, force: true });
