#!/usr/bin/env node
// The quality study of issue 11 (docs/quality.md): on models/wordnet-llama and the WordNet tasks of
// examples/data/wordnet, trains LoRA r8, LoRA with MoR's parameter count, MoELoRA, MoR (N8 r8) dense and top-2,
// and full fine-tuning, each for several seeds, picks each method's learning rate on the dev split, and scores
// the test split by greedy exact match.
//
//   node bench/quality.mjs [--quick] [--seeds 0,1,2] [--methods a,b] [--json out.json] [--out-dir DIR] [--keep]
//
// --quick: one seed, 300 steps, fixed learning rates, 40 test prompts per task (≤ 10 min on 2 cores).
// --json FILE: writes the schema document {"base_model", "tasks", "results": [...]} to FILE and prints it on
//   stdout (everything else goes to stderr).
// --out-dir: table.md, runs.json, accuracy-vs-params.svg, gates-*.svg (default bench/results/quality-quick
//   or docs/quality). Build the packages first (`npm run build`). Training goes through `mor train`.
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findLinearLayers } from '@mor/onnx';
import { readModelFile } from '@mor/onnx/node';
import {
  GENERATION_TASKS,
  STUDY_METHODS,
  checkQualityReport,
  entropy,
  heatmapSvg,
  meanAccuracy,
  mutualInformation,
  resultsTable,
  scatterSvg,
  summarizeResults,
} from '@mor/wordnet-llama';
import { MAX_NEW_TOKENS, SIZES, TARGETS, lrGrid, methodFlags, quickLr } from './quality-lib/config.mjs';
import { adapterParams, methodUnavailable, train } from './quality-lib/run-train.mjs';
import { score } from './quality-lib/score.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    'out-dir': { type: 'string' },
    methods: { type: 'string', default: STUDY_METHODS.join(',') },
    keep: { type: 'boolean', default: false },
    seeds: { type: 'string' },
  },
});
const preset = args.quick ? SIZES.quick : SIZES.full;
// --seeds 0,1,2: the preset with other seeds (e.g. the quick run over three seeds, to see its seed noise).
const seeds = args.seeds?.split(',').map(Number);
if (seeds?.some((x) => !Number.isInteger(x) || x < 0)) {
  console.error(`error: --seeds takes non-negative integers separated by commas, got ${args.seeds}`);
  process.exit(2);
}
const size = seeds ? { ...preset, seeds } : preset;
const outDir = args['out-dir'] ?? join(repo, args.quick ? 'bench/results/quality-quick' : 'docs/quality');
const methods = args.methods.split(',');
for (const m of methods) if (!STUDY_METHODS.includes(m)) throw new Error(`--methods: unknown method "${m}"`);

const BASE = 'models/wordnet-llama';
/** The methods with a router: their gates are read on the test prompts (heat map, mutual information). */
const ROUTED = ['moelora', 'mor', 'mor-top2'];
const model = join(repo, BASE);
const data = (f) => join(repo, 'examples/data/wordnet', f);
const log = (s) => process.stderr.write(`${s}\n`);
const work = mkdtempSync(join(tmpdir(), 'mor-quality-'));
const t0 = performance.now();
const load0 = loadavg();

const layers = findLinearLayers(await readModelFile(join(model, 'onnx/model.onnx')));
const shapes = layers.filter((l) => TARGETS.includes(l.modulePath.split('.').pop()));
// `--method full` without --targets trains every linear layer (lm_head included; not embeddings or norms).
const fullParams = layers.reduce((s, l) => s + l.dIn * l.dOut, 0);

const unavailable = {};
const runs = [];
const grid = {};
for (const method of methods) {
  const why = methodUnavailable(methodFlags(method, shapes)[1]);
  if (why) {
    unavailable[method] = why;
    log(`${method}: UNAVAILABLE — ${why}`);
    continue;
  }
  const flags = methodFlags(method, shapes);
  const trainRun = (seed, lr) => {
    const out = join(work, `${method}-s${seed}-lr${lr}`);
    const seconds = train({ model, data: data('train.jsonl'), out, flags, lr, seed, ...size });
    return { out, seconds };
  };
  const asModel = (out) => (method === 'full' ? { model: out } : { model, adapter: out });
  // Learning rate: the best dev mean accuracy of seed 0 over the grid (the smaller rate on a tie).
  let lr = quickLr(method);
  const seed0 = new Map();
  if (size.grid) {
    grid[method] = [];
    for (const cand of lrGrid(method)) {
      const r = trainRun(0, cand);
      seed0.set(cand, r);
      const dev = score({
        work,
        name: `${method}-dev-${cand}`,
        ...asModel(r.out),
        data: data('dev.jsonl'),
        limitPerTask: size.devPerTask,
        maxNewTokens: MAX_NEW_TOKENS,
      });
      const m = meanAccuracy(dev.accuracy);
      grid[method].push({ lr: cand, dev_mean_accuracy: m, dev_accuracy: dev.accuracy });
      log(`${method} lr ${cand}: dev mean accuracy ${(100 * m).toFixed(1)} %`);
    }
    lr = grid[method].reduce((best, g) => (g.dev_mean_accuracy > best.dev_mean_accuracy ? g : best)).lr;
  }
  for (const seed of size.seeds) {
    const r = seed0.get(lr) && seed === 0 ? seed0.get(lr) : trainRun(seed, lr);
    const routed = ROUTED.includes(method);
    const test = score({
      work,
      name: `${method}-test-s${seed}`,
      ...asModel(r.out),
      data: data('test.jsonl'),
      limitPerTask: size.testPerTask,
      maxNewTokens: MAX_NEW_TOKENS,
      gates: routed,
    });
    const params = method === 'full' ? fullParams : adapterParams(r.out);
    const accuracy = Object.fromEntries(GENERATION_TASKS.map((t) => [t, test.accuracy[t] ?? 0]));
    const run = {
      method,
      seed,
      trainable_params: params,
      accuracy,
      mean_accuracy: meanAccuracy(accuracy),
      lr,
      train_seconds: r.seconds,
      score_seconds: test.seconds,
    };
    // A few continuations per task, to show what the numbers count.
    run.samples = GENERATION_TASKS.flatMap((t) =>
      test.predictions
        .filter((p) => p.task === t)
        .slice(0, 3)
        .map((p) => ({
          task: t,
          headword: p.headword,
          answers: p.answers.slice(0, 5),
          prediction: p.prediction,
        })),
    );
    if (test.gates) {
      const counts = GENERATION_TASKS.map((t) => test.gates[t].top_counts);
      run.gates = test.gates;
      run.mutual_information_bits = mutualInformation(counts);
      run.expert_entropy_bits = entropy(counts[0].map((_, e) => counts.reduce((a, row) => a + row[e], 0)));
    }
    runs.push(run);
    const mi =
      run.mutual_information_bits !== undefined
        ? `, MI(task; top expert) ${run.mutual_information_bits.toFixed(3)} bits`
        : '';
    log(
      `${method} seed ${seed} lr ${lr}: test mean accuracy ${(100 * run.mean_accuracy).toFixed(1)} % (${params} params, ${r.seconds.toFixed(0)} s${mi})`,
    );
  }
}

const report = checkQualityReport({
  base_model: BASE,
  tasks: [...GENERATION_TASKS],
  results: runs.map(({ method, seed, trainable_params, accuracy, mean_accuracy }) => ({
    method,
    seed,
    trainable_params,
    accuracy,
    mean_accuracy,
  })),
});
const wall = (performance.now() - t0) / 1000;
const load1 = loadavg();

// Outputs: written into a temporary folder beside the target, then swapped in (a failed run leaves the old ones).
mkdirSync(join(outDir, '..'), { recursive: true });
const stage = mkdtempSync(`${outDir}.tmp-`);
chmodSync(stage, 0o755);
const write = (f, text) => writeFileSync(join(stage, f), text);
const summary = summarizeResults(runs, GENERATION_TASKS);
const miLines = summary
  .filter((s) => ROUTED.includes(s.method))
  .map((s) => {
    const mis = runs.filter((r) => r.method === s.method).map((r) => r.mutual_information_bits);
    const mean = mis.reduce((a, b) => a + b, 0) / mis.length;
    return `- ${s.method}: I(task; top expert) = ${mean.toFixed(3)} bits (seeds: ${mis.map((m) => m.toFixed(3)).join(', ')}; at most log2(5) = ${Math.log2(5).toFixed(3)})`;
  });
const command = `node ${['bench/quality.mjs', ...process.argv.slice(2)].join(' ')}`;
write(
  'table.md',
  [
    `Test accuracy (%, greedy exact match, mean ± std over seeds) on ${BASE}; \`${command}\`, ${wall.toFixed(0)} s wall, load average ${load0[0].toFixed(2)} at start, ${load1[0].toFixed(2)} at end.`,
    '',
    resultsTable(summary, GENERATION_TASKS),
    '',
    `Learning rates: ${summary.map((s) => `${s.method} ${runs.find((r) => r.method === s.method).lr}`).join(', ')}${size.grid ? ' (best dev mean accuracy of seed 0 over the grid)' : ' (fixed: --quick has no grid)'}.`,
    ...(Object.keys(unavailable).length
      ? ['', ...Object.entries(unavailable).map(([m, why]) => `**${m}: not run** — \`${why}\`.`)]
      : []),
    ...(miLines.length
      ? [
          '',
          'Mutual information between task and the top expert of each (token, layer) on the test prompts:',
          ...miLines,
        ]
      : []),
    '',
  ].join('\n'),
);
write(
  'runs.json',
  `${JSON.stringify({ command, wall_seconds: wall, loadavg_start: load0, loadavg_end: load1, size, unavailable, grid, runs }, null, 2)}\n`,
);
write('results.json', `${JSON.stringify(report, null, 2)}\n`);
write(
  'accuracy-vs-params.svg',
  scatterSvg(
    summary.map((s) => ({
      label: s.method,
      x: s.trainable_params,
      ys: runs.filter((r) => r.method === s.method).map((r) => r.mean_accuracy),
    })),
    {
      title: `Mean test accuracy vs trainable parameters (${BASE})`,
      xLabel: 'trainable parameters (log scale)',
      yLabel: 'mean accuracy over tasks (%)',
    },
  ),
);
for (const method of ROUTED) {
  const r = runs.find((x) => x.method === method && x.gates);
  if (!r) continue;
  const n = r.gates[GENERATION_TASKS[0]].mean.length;
  write(
    `gates-${method}.svg`,
    heatmapSvg(
      GENERATION_TASKS.map((t) => r.gates[t].mean),
      GENERATION_TASKS,
      Array.from({ length: n }, (_, e) => `e${e}`),
      {
        title: `${method} seed ${r.seed}: mean router gate per task (MI ${r.mutual_information_bits.toFixed(3)} bits)`,
      },
    ),
  );
}
rmSync(outDir, { recursive: true, force: true });
renameSync(stage, outDir);
if (!args.keep) rmSync(work, { recursive: true, force: true });
else log(`trained models kept in ${work}`);
log(`wrote ${relative(repo, outDir)}/ (${wall.toFixed(0)} s)`);
if (args.json) {
  writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}
