#!/usr/bin/env node
// The files bench/gpu/pack.sh puts in the GPU bundle, one path a line relative to the repository root: what
// bench/train.mjs (and its workers) and bench/inference.mjs import at run time and git does not hold — the built
// workspace packages (`dist/`) and the npm packages they need (the closure of `dependencies` and installed
// `optionalDependencies`, from the hoisted node_modules), pruned to linux/x64 and to the files Node loads.
//
//   node bench/gpu/bundle-files.mjs > list
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** What the benchmarks import (bench/train.mjs, train-lib/*, inference.mjs, lib/*). */
const ENTRIES = [
  '@mor/core',
  '@mor/format',
  '@mor/onnx',
  '@mor/engine',
  '@mor/transformers',
  '@mor/model-builder',
  '@huggingface/transformers',
];
/** Never loaded by these benchmarks in Node: onnxruntime-web (transformers.js' Node build bundles what it uses). */
const SKIP = new Set(['onnxruntime-web']);

const out = [];
const seen = new Set();
const pkgDir = (name) => join(root, 'node_modules', name);

/** Every file under `dir` (relative to root), minus what Node never loads: maps, types, docs, other platforms. */
function walk(dir, keep) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    const rel = relative(root, p);
    if (entry.name === 'node_modules') continue; // nested ones are resolved as packages of their own
    if (entry.isDirectory()) walk(p, keep);
    else if (keep(rel)) out.push(rel);
  }
}

const common = (rel) => !/\.(map|d\.ts|d\.mts|d\.cts|md|tsbuildinfo)$/i.test(rel);
const PRUNE = {
  // linux/x64 only; the JS and the package.json
  'onnxruntime-node': (rel) => !rel.includes('/bin/napi-v6/') || rel.includes('/bin/napi-v6/linux/x64/'),
  // sharp's C++ sources are for building it; its prebuilt binary is @img/sharp-linux-x64
  sharp: (rel) => !rel.startsWith('node_modules/sharp/src/'),
  // the Node build only (its ESM entry and the CJS one, which `require` condition takes)
  '@huggingface/transformers': (rel) =>
    rel.endsWith('package.json') || /dist\/transformers\.node\.(mjs|cjs)$/.test(rel),
};

function add(name) {
  if (seen.has(name) || SKIP.has(name)) return;
  seen.add(name);
  let dir = pkgDir(name);
  if (!existsSync(dir)) throw new Error(`${name} is not installed in node_modules (npm ci first)`);
  if (lstatSync(dir).isSymbolicLink()) {
    // A workspace package: the link itself, its package.json, dist/ (and assets/: the builder's tokenizers).
    out.push(relative(root, dir));
    dir = resolve(dirname(dir), readlinkSync(dir));
    const rel = relative(root, dir);
    if (!existsSync(join(dir, 'dist')))
      throw new Error(`${rel}/dist is missing: run \`npm run build\` first`);
    out.push(join(rel, 'package.json'));
    walk(join(dir, 'dist'), (r) => !/\.(map|d\.ts|tsbuildinfo)$/.test(r));
  } else {
    const prune = PRUNE[name] ?? (() => true);
    walk(dir, (rel) => rel.endsWith('package.json') || (common(rel) && prune(rel)));
  }
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const dep of Object.keys(pkg.dependencies ?? {})) add(dep);
  for (const dep of Object.keys(pkg.optionalDependencies ?? {})) if (existsSync(pkgDir(dep))) add(dep);
}

for (const e of ENTRIES) add(e);
process.stdout.write(`${[...new Set(out)].sort().join('\n')}\n`);
