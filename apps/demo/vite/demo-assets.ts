// Serves what the demo needs but does not own: the bundled models (under /models/), the WordNet task rows (under
// /data/wordnet/) and onnxruntime-web's wasm runtime (under /ort/). The dev server streams them from where they live; `vite build` copies them into
// dist/, so nothing is duplicated in git and `vite preview` (or any static host) serves the same paths.
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connect, Plugin } from 'vite';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../../..');

/** The bundled models: URL name under /models/ → directory. The WordNet base model first (the page's default). */
export const BUNDLED_MODELS: Record<string, string> = {
  'wordnet-llama': join(REPO, 'models/wordnet-llama'),
  'tiny-llama-kv': join(REPO, 'fixtures/tiny-llama-kv'),
};
/** Test data and the model card's records, not model files. */
const SKIPPED_FILES = new Set([
  'golden.json',
  'README.md',
  'held-out.jsonl',
  'pretrain-log.jsonl',
  'pretrain-summary.json',
]);
/** The WordNet task rows the page trains on and asks (examples/data/wordnet), under /data/wordnet/. */
const WORDNET_DATA = join(REPO, 'examples/data/wordnet');
const WORDNET_FILES = ['train.jsonl', 'dev.jsonl'];

/**
 * onnxruntime-web's `webgpu` entry (the one transformers.js imports) runs the asyncify build; with the
 * `onnxruntime-web-use-extern-wasm` export condition its loader is not inlined, so both files are fetched from
 * `env.backends.onnx.wasm.wasmPaths`.
 */
export const ORT_FILES = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

/** onnxruntime-web's dist/ as transformers.js resolves it (its own nested copy first, else the hoisted one). */
export function ortDistDir(): string {
  const requireHere = createRequire(import.meta.url);
  const transformersEntry = requireHere.resolve('@huggingface/transformers');
  const requireFromTransformers = createRequire(transformersEntry);
  const ortEntry = requireFromTransformers.resolve('onnxruntime-web');
  const dir = dirname(ortEntry);
  for (const file of ORT_FILES) {
    if (!existsSync(join(dir, file))) throw new Error(`onnxruntime-web has no ${file} in ${dir}`);
  }
  return dir;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else if (entry.isFile() && !SKIPPED_FILES.has(entry.name)) out.push(full);
  }
  return out;
}

/** URL path (no leading slash) → file on disk, for everything the plugin serves. */
export function servedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, dir] of Object.entries(BUNDLED_MODELS)) {
    for (const file of filesUnder(dir))
      files.set(`models/${name}/${relative(dir, file).split(sep).join('/')}`, file);
  }
  for (const file of WORDNET_FILES) files.set(`data/wordnet/${file}`, join(WORDNET_DATA, file));
  const ort = ortDistDir();
  for (const file of ORT_FILES) files.set(`ort/${file}`, join(ort, file));
  return files;
}

const MIME: Record<string, string> = {
  '.json': 'application/json',
  '.jsonl': 'application/jsonl',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
};

function middleware(files: Map<string, string>, headers: Record<string, string>): Connect.NextHandleFunction {
  return (req, res, next) => {
    const path = decodeURIComponent((req.url ?? '').split('?')[0] ?? '').replace(/^\/+/, '');
    const file = files.get(path);
    if (!file) return next();
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    // Model files stay out of Chromium's HTTP cache: transformers.js keeps them in its own Cache Storage, and in a
    // memory-backed (incognito, test) profile writing the 20 MB onnx/model.onnx there fails the fetch itself
    // (net::ERR_CACHE_WRITE_FAILURE → "TypeError: network error", seen in the e2e runs).
    if (path.startsWith('models/')) res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Type', MIME[extname(file)] ?? 'application/octet-stream');
    res.setHeader('Content-Length', String(statSync(file).size));
    createReadStream(file).pipe(res);
  };
}

/** The Vite plugin: dev and preview middleware for /models/, /data/ and /ort/, and the files emitted by `vite build`. */
export function demoAssets(): Plugin {
  let files: Map<string, string> | undefined;
  const all = () => (files ??= servedFiles());
  return {
    name: 'mor-demo-assets',
    configureServer(server) {
      // This middleware answers before Vite's own, which is what adds `server.headers`: repeat them here.
      const headers = Object.fromEntries(
        Object.entries(server.config.server.headers ?? {}).map(([k, v]) => [k, String(v)]),
      );
      server.middlewares.use(middleware(all(), headers));
    },
    configurePreviewServer(server) {
      // The same files and headers for `vite preview`, answered before its static handler (dist/ has copies).
      const headers = Object.fromEntries(
        Object.entries(server.config.preview.headers ?? {}).map(([k, v]) => [k, String(v)]),
      );
      server.middlewares.use(middleware(all(), headers));
    },
    generateBundle() {
      for (const [fileName, file] of all()) {
        this.emitFile({ type: 'asset', fileName, source: readFileSync(file) });
      }
    },
  };
}
