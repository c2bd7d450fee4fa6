#!/usr/bin/env node
// Training setup cost on a realistic model size: a random Llama shaped like SmolLM2-135M (hidden 576, 30 layers,
// 9/3 heads, intermediate 1536, vocab 49152: 135M parameters, 540 MB fp32), MoR r 8 N 8 on all 7 projections,
// AdamW. Times TrainSession.create (graph building + onnxruntime session), the first steps (arena warm-up), the
// steady step, the first evaluate (opens the eval session) and peak RSS, and prints setup against steady step.
//
//   node bench/train-setup.mjs [--layers 30 --hidden 576 --heads 9 --kv-heads 3 --intermediate 1536 \
//     --vocab 49152 --batch 1 --seq 128 --steps 5 --threads 2]
//
// Build the packages first (`npm run build`).
import { performance } from 'node:perf_hooks';
import { createRng, initMorLayer, validateMorConfig } from '@mor/core';
import { createMorAdapter } from '@mor/format';
import { buildLlama } from '@mor/model-builder';
import { TrainSession } from '@mor/engine';
import { PROJECTIONS, targetLinears } from './lib/adapters.mjs';
import { parseFlags } from './lib/args.mjs';
import { lmBatch, median } from './train-lib/args.mjs';
import { processMemory } from './train-lib/memory.mjs';

const o = parseFlags(process.argv.slice(2), {
  layers: 30,
  hidden: 576,
  heads: 9,
  kvHeads: 3,
  intermediate: 1536,
  vocab: 49152,
  batch: 1,
  seq: 128,
  steps: 5,
  threads: 2,
});
const peakMB = () => processMemory().peakMB;
const timed = async (f) => {
  const t = performance.now();
  const value = await f();
  return [performance.now() - t, value];
};

const built = buildLlama({ ...o, withoutKvCache: true, seed: 0 });
const config = validateMorConfig({ r: 8, alpha: 16, experts: 8, targets: PROJECTIONS });
const rng = createRng(1);
const layers = new Map(
  targetLinears(built).map((l) => [l.module, initMorLayer({ dIn: l.dIn, dOut: l.dOut, config, rng })]),
);
// The linears include lm_head; the embedding table is the one weight besides them (norms aside).
const params = built.linears.reduce((s, l) => s + l.dIn * l.dOut, 0) + o.vocab * o.hidden;
const peakBefore = peakMB();

const [createMs, session] = await timed(() =>
  TrainSession.create({
    model: built.onnx,
    task: 'causal-lm',
    method: 'mor',
    adapter: createMorAdapter({ config, layers }),
    optimizer: { kind: 'adamw', lr: 1e-4 },
    sessionOptions: { intraOpNumThreads: o.threads, interOpNumThreads: 1 },
  }),
);
const tokens = o.batch * o.seq;
const ids = BigInt64Array.from({ length: tokens }, (_, i) => BigInt((i * 7919) % o.vocab));
const batch = lmBatch(ids, o.batch, o.seq);
const stepMs = [];
for (let i = 0; i < o.steps; i++) stepMs.push((await timed(() => session.step(batch, { lr: 1e-4 })))[0]);
const [evalMs] = await timed(() => session.evaluate(batch));
await session.dispose();

const steady = median(stepMs.slice(2));
const f = (x) => Math.round(x).toLocaleString('en');
console.log(
  [
    `Llama h${o.hidden} L${o.layers} heads ${o.heads}/${o.kvHeads} inter ${o.intermediate} vocab ${o.vocab} ` +
      `(${(params / 1e6).toFixed(0)}M weights); MoR r 8 N 8 on 7 projections; AdamW; ${o.batch}×${o.seq} tokens; ` +
      `${o.threads} threads`,
    '',
    '| TrainSession.create | step 1 | step 2 | steady step (median of the rest) | first evaluate | peak RSS (MB) | model built, RSS before (MB) |',
    '|---|---|---|---|---|---|---|',
    `| ${f(createMs)} ms | ${f(stepMs[0])} ms | ${f(stepMs[1] ?? NaN)} ms | ${f(steady)} ms | ${f(evalMs)} ms | ${f(peakMB())} | ${f(peakBefore)} |`,
    '',
    `setup = ${(createMs / steady).toFixed(1)} steady steps`,
  ].join('\n'),
);
