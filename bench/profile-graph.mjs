#!/usr/bin/env node
// Where does the adapter time go? Runs the base and adapted ONNX graphs with onnxruntime-node directly (no
// transformers.js), one intra-op thread, on a decode-shaped step (1 new token, --past cached tokens) and a prefill
// (--prompt-tokens), and reports per-run process CPU time (robust on a busy machine, where wall time is not)
// plus onnxruntime's own per-node profile summed by op type, base nodes vs adapter nodes.
//
//   node bench/profile-graph.mjs [--hidden 512 --layers 8 --past 128 --prompt-tokens 128 --runs 200]
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { buildLlama } from '@mor/model-builder';
import { createRng } from '@mor/core';
import { applyAdapter, decodeModel, encodeModelBytes } from '@mor/onnx';
import { makeLoraAdapter, makeMorAdapter, targetLinears } from './lib/adapters.mjs';
import { llamaShape, median, parseArgs } from './lib/args.mjs';

const argv = process.argv.slice(2);
const pick = (flag, dflt) => {
  const i = argv.indexOf(flag);
  if (i < 0) return dflt;
  const v = Number(argv.splice(i, 2)[1]);
  return v;
};
const past = pick('--past', 128);
const runs = pick('--runs', 200);
const o = parseArgs(argv);

const built = buildLlama(llamaShape(o));
const linears = targetLinears(built);
const patched = async (adapter, options = {}) => {
  const model = await decodeModel(built.onnx);
  applyAdapter(model, adapter, options);
  return encodeModelBytes(model);
};
const mor4 = makeMorAdapter(linears, { r: 8, experts: 4, seed: o.seed + 1 });
const mor8 = makeMorAdapter(linears, { r: 8, experts: 8, seed: o.seed + 2 });
const lora = makeLoraAdapter(linears, { r: 8, seed: o.seed + 3 });
let graphs = [
  ['base', built.onnx],
  ['LoRA r8', await patched(lora)],
  ['MoR N4 dense', await patched(mor4)],
  ['MoR N4 dense folded', await patched(mor4, { foldExperts: true })],
  ['MoR N8 dense', await patched(mor8)],
  ['MoR N8 dense folded', await patched(mor8, { foldExperts: true })],
  ['MoR N8 top-2', await patched(mor8, { routing: 'top-k', topK: 2 })],
  ['MoR N8 top-2 folded', await patched(mor8, { routing: 'top-k', topK: 2, foldExperts: true })],
  ['MoR N4 static (branch)', await patched(mor4, { routing: 'static', gate: [0.25, 0.25, 0.25, 0.25] })],
  [
    'MoR N4 static folded',
    await patched(mor4, { routing: 'static', gate: [0.25, 0.25, 0.25, 0.25], foldExperts: true }),
  ],
];
if (o.only) graphs = graphs.filter(([name], i) => i === 0 || o.only.some((s) => name.includes(s)));

// ---- feeds --------------------------------------------------------------------------------------------------
const rng = createRng(o.seed + 100);
const { kvHeads, headDim } = built.cache;
function feeds(newTokens, cached) {
  const total = newTokens + cached;
  const f = {
    input_ids: new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: newTokens }, () => BigInt(3 + (rng.nextUint32() % 381))),
      [1, newTokens],
    ),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
    position_ids: new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: newTokens }, (_, i) => BigInt(cached + i)),
      [1, newTokens],
    ),
  };
  for (let l = 0; l < built.cache.layers; l++)
    for (const kv of ['key', 'value'])
      f[`past_key_values.${l}.${kv}`] = new ort.Tensor(
        'float32',
        rng.fillNormal(new Float32Array(kvHeads * cached * headDim)),
        [1, kvHeads, cached, headDim],
      );
  return f;
}
const shapes = { decode: feeds(1, past), prefill: feeds(o.promptTokens, 0) };

// ---- timing (interleaved, CPU time) ---------------------------------------------------------------------------
const options = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
};
const sessions = [];
for (const [name, bytes] of graphs)
  sessions.push({ name, session: await ort.InferenceSession.create(bytes, options) });
for (const [shape, feed] of Object.entries(shapes)) {
  const n = shape === 'decode' ? runs : Math.max(10, Math.round(runs / 10));
  const cpu = new Map(sessions.map((s) => [s.name, []]));
  const wall = new Map(sessions.map((s) => [s.name, []]));
  for (const s of sessions) await s.session.run(feed); // warm-up
  for (let i = 0; i < n; i++) {
    for (const s of sessions) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await s.session.run(feed);
      wall.get(s.name).push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.get(s.name).push((c.user + c.system) / 1000);
    }
  }
  const baseCpu = median(cpu.get('base'));
  const baseWall = median(wall.get('base'));
  console.log(
    `\n${shape} (${shape === 'decode' ? `1 token, ${past} cached` : `${o.promptTokens} tokens`}), median of ${n} interleaved runs, 1 thread:`,
  );
  console.log('| graph | CPU ms/run | CPU ×base | wall ms/run | wall ×base |\n|---|---|---|---|---|');
  for (const s of sessions) {
    const c = median(cpu.get(s.name));
    const w = median(wall.get(s.name));
    console.log(
      `| ${s.name} | ${c.toFixed(3)} | ${(c / baseCpu).toFixed(3)} | ${w.toFixed(3)} | ${(w / baseWall).toFixed(3)} |`,
    );
  }
}
for (const s of sessions) await s.session.release();

// ---- onnxruntime profile of one decode step per graph ---------------------------------------------------------
const dir = await mkdtemp(join(tmpdir(), 'mor-profile-'));
console.log(
  `\nonnxruntime profile, decode step (sum of kernel times per run, mean over ${Math.min(runs, 50)} runs; µs):`,
);
for (const [name, bytes] of graphs) {
  const prefix = join(dir, `p${graphs.findIndex((g) => g[0] === name)}`);
  const session = await ort.InferenceSession.create(bytes, {
    ...options,
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  const k = Math.min(runs, 50);
  for (let i = 0; i < k + 1; i++) await session.run(shapes.decode);
  await session.endProfiling(); // writes <prefix>_<timestamp>.json
  await session.release();
  const file = join(
    dir,
    (await readdir(dir)).find((f) => join(dir, f).startsWith(`${prefix}_`)),
  );
  const events = JSON.parse(await readFile(file, 'utf8')).filter(
    (e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'),
  );
  // Group kernel events into runs by their order: every run executes the same node list.
  const perRun = events.length / (k + 1);
  const byOp = new Map();
  let adapterNodes = 0;
  events.slice(perRun).forEach((e) => {
    const adapter = /\/(mor|lora)\//.test(e.name);
    const key = `${adapter ? 'adapter' : 'base'} ${e.args.op_name}`;
    byOp.set(key, (byOp.get(key) ?? 0) + e.dur / k);
  });
  events.slice(0, perRun).forEach((e) => (adapterNodes += /\/(mor|lora)\//.test(e.name) ? 1 : 0));
  const total = (prefix) =>
    [...byOp].filter(([key]) => key.startsWith(prefix)).reduce((s, [, v]) => s + v, 0);
  const top = [...byOp]
    .filter(([key]) => key.startsWith('adapter'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8);
  console.log(
    `${name}: ${perRun} kernels/run (${adapterNodes} adapter); base nodes ${total('base').toFixed(0)} µs, adapter nodes ` +
      `${total('adapter').toFixed(0)} µs${top.length ? ` — ${top.map(([key, v]) => `${key.slice(8)} ${v.toFixed(0)}`).join(', ')}` : ''}`,
  );
}
await rm(dir, { recursive: true, force: true });
