#!/usr/bin/env node
// The quality study of issue 11 (docs/quality.md): on models/wordnet-llama and the WordNet tasks of
// examples/data/wordnet, trains LoRA r8, LoRA with MoR's parameter count, MoELoRA, MoR (N8 r8) dense and top-2,
// and full fine-tuning, each for several seeds, picks each method's learning rate on the dev split, and scores
// the test split by greedy exact match.
//
//   node bench/quality.mjs [--quick] [--seeds 0,1,2] [--methods a,b] [--json out.json] [--out-dir DIR] [--keep]
//                          [--cache DIR | --no-cache]
//
// --quick: one seed, 300 steps, fixed learning rates, 40 test prompts per task (≤ 10 min on 2 cores).
// --json FILE: writes the schema document {"base_model", "tasks", "results": [...]} to FILE and prints it on
//   stdout (everything else goes to stderr).
// --out-dir: table.md, runs.json, accuracy-vs-params.svg, gates-*.svg (default bench/results/quality-quick
//   or docs/quality). Build the packages first (`npm run build`). Training goes through `mor train`.
// --cache DIR: each finished run (a learning-rate candidate scored on dev, a seed scored on test) is kept as one
//   JSON record in DIR, and a rerun takes it from there instead of training again, so the full study (hours here)
//   can be stopped and resumed, across sessions too. A record is reused only when its fingerprint (the run's
//   flags, learning rate, seed, sizes, and the bytes of the base model and data files) matches. The full study
//   caches by default in bench/results/quality-full/runs (committed); trained models stay in the ignored
//   bench/results/.quality-work until the study is done. --quick caches only when given --cache.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findLinearLayers } from '@mor/onnx';
import { readModelFile } from '@mor/onnx/node';
import {
  GENERATION_TASKS,
  RunCache,
  STUDY_METHODS,
  checkQualityReport,
  entropy,
  fileDigest,
  fingerprint,
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
    cache: { type: 'string' },
    'no-cache': { type: 'boolean', default: false },
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
const cacheDir = args['no-cache']
  ? undefined
  : (args.cache ?? (args.quick ? undefined : join(repo, 'bench/results/quality-full/runs')));
// With a cache, trained models live in a fixed ignored folder, so a resumed study still finds the seed-0 model of
// the learning rate it picked; without one, in a temporary folder removed at the end.
const work = cacheDir
  ? join(repo, 'bench/results/.quality-work', args.quick ? 'quick' : 'full')
  : mkdtempSync(join(tmpdir(), 'mor-quality-'));
mkdirSync(work, { recursive: true });
const cache = cacheDir
  ? new RunCache(cacheDir, {
      model: fileDigest(join(model, 'onnx/model.onnx')),
      config: fileDigest(join(model, 'config.json')),
      train: fileDigest(data('train.jsonl')),
      dev: fileDigest(data('dev.jsonl')),
      test: fileDigest(data('test.jsonl')),
    })
  : undefined;
if (cache) log(`run cache: ${relative(repo, cacheDir)} (${cache.size} records)`);
/** `fn()` once per fingerprint: from the cache when it holds the record, else run and recorded. */
const cached = (name, key, fn) => (cache ? cache.get(name, key, fn) : fn());
const trainSize = { steps: size.steps, batchSize: size.batchSize, warmup: size.warmup };
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
  /**
   * The model of (seed, lr), trained once: its folder is named by the run's fingerprint and marked done when
   * `mor train` returned, so the test run of the chosen rate reuses the grid's seed-0 model, also after a resume.
   */
  const trained = (seed, lr) => {
    const id = fingerprint({ flags, lr, seed, ...trainSize, inputs: cache?.inputs }).slice(0, 12);
    const out = join(work, `${method}-s${seed}-lr${lr}-${id}`);
    const done = join(out, '.study-done.json');
    if (existsSync(done)) return { out, ...JSON.parse(readFileSync(done, 'utf8')) };
    rmSync(out, { recursive: true, force: true }); // an interrupted run's leftovers
    const seconds = train({ model, data: data('train.jsonl'), out, flags, lr, seed, ...size });
    writeFileSync(done, JSON.stringify({ seconds }));
    return { out, seconds };
  };
  const asModel = (out) => (method === 'full' ? { model: out } : { model, adapter: out });
  // Learning rate: the best dev mean accuracy of seed 0 over the grid (the smaller rate on a tie).
  let lr = quickLr(method);
  if (size.grid) {
    grid[method] = [];
    for (const cand of lrGrid(method)) {
      const key = { flags, lr: cand, seed: 0, ...trainSize, devPerTask: size.devPerTask, MAX_NEW_TOKENS };
      const g = await cached(`${method}-lr${cand}-dev`, key, () => {
        const r = trained(0, cand);
        const dev = score({
          work,
          name: `${method}-dev-${cand}`,
          ...asModel(r.out),
          data: data('dev.jsonl'),
          limitPerTask: size.devPerTask,
          maxNewTokens: MAX_NEW_TOKENS,
        });
        return {
          lr: cand,
          dev_mean_accuracy: meanAccuracy(dev.accuracy),
          dev_accuracy: dev.accuracy,
          train_seconds: r.seconds,
          score_seconds: dev.seconds,
        };
      });
      grid[method].push(g);
      log(`${method} lr ${cand}: dev mean accuracy ${(100 * g.dev_mean_accuracy).toFixed(1)} %`);
    }
    lr = grid[method].reduce((best, g) => (g.dev_mean_accuracy > best.dev_mean_accuracy ? g : best)).lr;
  }
  for (const seed of size.seeds) {
    const routed = ROUTED.includes(method);
    const key = { flags, lr, seed, ...trainSize, testPerTask: size.testPerTask, MAX_NEW_TOKENS, routed };
    const run = await cached(`${method}-s${seed}-test`, key, () => {
      const r = trained(seed, lr);
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
      return run;
    });
    const params = run.trainable_params;
    runs.push(run);
    const mi =
      run.mutual_information_bits !== undefined
        ? `, MI(task; top expert) ${run.mutual_information_bits.toFixed(3)} bits`
        : '';
    log(
      `${method} seed ${seed} lr ${lr}: test mean accuracy ${(100 * run.mean_accuracy).toFixed(1)} % (${params} params, ${run.train_seconds.toFixed(0)} s${mi})`,
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
// The runs' own seconds (training and scoring), which a resumed study spreads over several invocations.
const computeSeconds =
  Object.values(grid)
    .flat()
    .reduce((a, g) => a + g.train_seconds + g.score_seconds, 0) +
  runs.reduce((a, r) => a + r.score_seconds + (size.grid && r.seed === 0 ? 0 : r.train_seconds), 0);
const fromCache = cache?.hits
  ? ` (${cache.hits} of ${cache.hits + cache.misses} runs taken from the run cache; ${computeSeconds.toFixed(0)} s of training and scoring in all)`
  : '';
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
    `Test accuracy (%, greedy exact match, mean ± std over seeds) on ${BASE}; \`${command}\`, ${wall.toFixed(0)} s wall${fromCache}, load average ${load0[0].toFixed(2)} at start, ${load1[0].toFixed(2)} at end.`,
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
  `${JSON.stringify({ command, wall_seconds: wall, compute_seconds: computeSeconds, loadavg_start: load0, loadavg_end: load1, size, unavailable, grid, runs }, null, 2)}\n`,
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
