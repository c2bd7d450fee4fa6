#!/usr/bin/env node
// Training in the browser at real size: headless Chromium (Debian's) opens the demo's benchmark page
// (apps/demo/bench/train.html), which trains a MoR / LoRA adapter (r 8, N 8, all 7 projections, AdamW) on a
// random Llama of the given shape through @mor/engine's TrainSession on onnxruntime-web (WASM or WebGPU) — the
// path the demo's in-page training takes. This script builds the model (fp32 and/or q4 = MatMulNBits), serves it
// with the page (cross-origin isolated, so wasm threads and measureUserAgentSpecificMemory work), samples the
// browser's process memory from /proc, and prints setup time, tokens/s and memory per run, with ratios against
// the first run of the same invocation.
//
//   node bench/browser-train.mjs [--hidden 576 --layers 30 --heads 9 --kv-heads 3 --intermediate 1536 \
//     --vocab 49152 --batch 2 --seq 128 --steps 3 --threads 2 --seed 0] [--dtypes fp32,q4] [--backends wasm,webgpu]
//     [--methods mor,lora] [--port 4318] [--timeout 900] [--json out.json] [--no-build 1]
//
// Defaults: the SmolLM2-135M shape, q4 then fp32, WASM, MoR and LoRA. Build the packages first (`npm run build`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLlama } from '@mor/model-builder';
import { chromium } from 'playwright-core';
import { llamaShape, parseFlags } from './lib/args.mjs';
import { processTreeRss } from './browser-lib/process-memory.mjs';
import { serveStatic } from './browser-lib/static-server.mjs';

const o = parseFlags(
  process.argv.slice(2),
  {
    hidden: 576,
    layers: 30,
    heads: 9,
    kvHeads: 3,
    intermediate: 1536,
    vocab: 49152,
    batch: 2,
    seq: 128,
    steps: 3,
    threads: 2,
    seed: 0,
    port: 4318,
    timeout: 900,
    noBuild: 0,
    dtypes: ['q4', 'fp32'],
    backends: ['wasm'],
    methods: ['mor', 'lora'],
  },
  { strings: ['json'], lists: ['dtypes', 'backends', 'methods'] },
);
const here = fileURLToPath(new URL('.', import.meta.url));
const demo = join(here, '../apps/demo');
const log = (...a) => console.error(...a);

if (!o.noBuild) {
  log('building the demo (vite build)…');
  const r = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: demo, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// ---- models -------------------------------------------------------------------------------------------------
const root = mkdtempSync(join(tmpdir(), 'mor-browser-bench-'));
const shape = { ...llamaShape(o), withoutKvCache: true };
const files = new Map();
for (const dtype of o.dtypes) {
  if (dtype !== 'fp32' && dtype !== 'q4') {
    console.error(`error: --dtypes takes fp32 and q4, got ${dtype}`);
    process.exit(2);
  }
  log(`building the ${dtype} model…`);
  const built = buildLlama(dtype === 'q4' ? { ...shape, quantize: 'matmulnbits' } : shape);
  const file = join(root, `model_${dtype}.onnx`);
  writeFileSync(file, built.onnx);
  files.set(`/models/model_${dtype}.onnx`, file);
}

const server = await serveStatic(join(demo, 'dist'), files, o.port);
const rows = [];
try {
  for (const dtype of o.dtypes)
    for (const backend of o.backends)
      for (const method of o.methods) rows.push(await runPage(dtype, backend, method));
} finally {
  server.close();
  rmSync(root, { recursive: true, force: true });
}

/** One run in a fresh browser, so each peak is its own. */
async function runPage(dtype, backend, method) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--no-first-run', '--disable-sync'],
  });
  // Chromium runs as children of this process (Playwright spawns it): their memory, not this script's.
  let peak = { total: 0, largest: 0 };
  const sampler = setInterval(() => {
    const now = processTreeRss(process.pid, { withoutRoot: true });
    peak = { total: Math.max(peak.total, now.total), largest: Math.max(peak.largest, now.largest) };
  }, 200);
  const label = `${dtype} ${backend} ${method}`;
  try {
    const page = await browser.newPage();
    // (The page probes `<model>_data`, external data, and may get a 404: not an error.)
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
        log(`  [page] ${m.text()}`);
    });
    const q = new URLSearchParams({
      model: `/models/model_${dtype}.onnx`,
      backend,
      method,
      steps: String(o.steps),
      batch: String(o.batch),
      seq: String(o.seq),
      vocab: String(o.vocab),
      threads: String(o.threads),
    });
    log(`${label}: running…`);
    await page.goto(`http://localhost:${o.port}/bench/train.html?${q}`);
    await page.waitForFunction(() => window.benchResult !== undefined, null, { timeout: o.timeout * 1000 });
    const r = await page.evaluate(() => window.benchResult);
    if (!r.ok) log(`${label}: failed: ${r.error}`);
    return { dtype, backend, method, ...r, peakRssTotal: peak.total, peakRssLargest: peak.largest };
  } catch (e) {
    log(`${label}: ${e.message.split('\n')[0]}`);
    return { dtype, backend, method, ok: false, error: e.message.split('\n')[0] };
  } finally {
    clearInterval(sampler);
    await browser.close();
  }
}

// ---- report -------------------------------------------------------------------------------------------------
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const mb = (b) => (b ? `${Math.round(b / 2 ** 20).toLocaleString('en-US')}` : '–');
const first = rows.find((r) => r.ok);
const ratio = (x, y) => (x && y ? `${(x / y).toFixed(2)}×` : '–');
console.log(
  `\nBrowser training, ${o.layers} layers h${o.hidden}, vocab ${o.vocab}, batch ${o.batch}×${o.seq}, ` +
    `${o.steps} steps (the first includes warm-up; tok/s is the median of the rest), ${o.threads} wasm threads`,
);
console.log(
  '| model | backend | method | setup s | tok/s | peak RSS, browser MB (largest process) | page memory MB | ×first: tok/s, RSS |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  if (!r.ok) {
    console.log(`| ${r.dtype} | ${r.backend} | ${r.method} | failed: ${r.error} | | | | |`);
    continue;
  }
  const steady = r.stepMs.length > 1 ? r.stepMs.slice(1) : r.stepMs;
  r.tokensPerSecond = (r.tokensPerStep * 1000) / median(steady);
  const f = first.tokensPerSecond ?? r.tokensPerSecond;
  console.log(
    `| ${r.dtype} | ${r.backend} | ${r.method} | ${(r.setupMs / 1000).toFixed(1)} | ${r.tokensPerSecond.toFixed(1)} | ` +
      `${mb(r.peakRssTotal)} (${mb(r.peakRssLargest)}) | ${mb(r.pageMemory)} | ` +
      `${ratio(r.tokensPerSecond, f)}, ${ratio(r.peakRssTotal, first.peakRssTotal)} |`,
  );
}
if (o.json) writeFileSync(o.json, `${JSON.stringify({ options: o, rows }, null, 2)}\n`);
