// Sums an onnxruntime profile (`enableProfiling` JSON trace) per op type, per part of the train-step graph
// (by node-name prefix) and per node, as milliseconds per run, skipping the first `skipRuns` runs (warm-up).
import { readFileSync } from 'node:fs';

/** Parts of the train-step graph, by the prefix our passes give node names. */
const PARTS = [
  ['adapter', /^\/(mor|lora)\//],
  ['backward', /^\/grad\//],
  ['optimizer', /^\/(adamw|sgd|clip)\//],
  ['loss', /^\/loss\//],
  ['norms (decomposed)', /^\/decomposed\//],
];
const partOf = (node) => PARTS.find(([, re]) => re.test(node))?.[0] ?? 'base forward';

export function summarizeProfile(file, skipRuns = 0) {
  const events = JSON.parse(readFileSync(file, 'utf8'));
  const runs = events
    .filter((e) => e.cat === 'Session' && e.name === 'model_run')
    .sort((a, b) => a.ts - b.ts);
  const kept = runs.slice(skipRuns);
  if (!kept.length) return null;
  const start = kept[0].ts;
  const byOp = new Map();
  const byPart = new Map();
  const byNode = new Map();
  const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
  let kernels = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < start) continue;
    const node = e.name.slice(0, -'_kernel_time'.length);
    const ms = e.dur / 1000 / kept.length;
    add(byOp, e.args?.op_name ?? '?', ms);
    add(byPart, partOf(node), ms);
    add(byNode, `${node} (${e.args?.op_name ?? '?'})`, ms);
    kernels++;
  }
  const top = (m, n) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => [k, Number(v.toFixed(3))]);
  return {
    runs: kept.length,
    runMs: kept.reduce((s, e) => s + e.dur, 0) / 1000 / kept.length,
    kernelsPerRun: kernels / kept.length,
    byPart: top(byPart, 10),
    byOp: top(byOp, 25),
    byNode: top(byNode, 30),
  };
}
