// Serves what the demo needs but does not own: the bundled fixture model (under /models/) and onnxruntime-web's
// wasm runtime (under /ort/). The dev server streams them from where they live; `vite build` copies them into
// dist/, so nothing is duplicated in git and `vite preview` (or any static host) serves the same paths.
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connect, Plugin } from 'vite';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../../..');

/** The bundled models: URL name under /models/ → fixture directory. golden.json is test data, not model data. */
export const BUNDLED_MODELS: Record<string, string> = {
  'tiny-llama-kv': join(REPO, 'fixtures/tiny-llama-kv'),
};
const SKIPPED_FILES = new Set(['golden.json']);

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
  const ort = ortDistDir();
  for (const file of ORT_FILES) files.set(`ort/${file}`, join(ort, file));
  return files;
}

const MIME: Record<string, string> = {
  '.json': 'application/json',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
};

function middleware(files: Map<string, string>, headers: Record<string, string>): Connect.NextHandleFunction {
  return (req, res, next) => {
    const path = decodeURIComponent((req.url ?? '').split('?')[0] ?? '').replace(/^\/+/, '');
    const file = files.get(path);
    if (!file) return next();
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    res.setHeader('Content-Type', MIME[extname(file)] ?? 'application/octet-stream');
    res.setHeader('Content-Length', String(statSync(file).size));
    createReadStream(file).pipe(res);
  };
}

/** The Vite plugin: dev-server middleware for /models/ and /ort/, and the same files emitted by `vite build`. */
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
    generateBundle() {
      for (const [fileName, file] of all()) {
        this.emitFile({ type: 'asset', fileName, source: readFileSync(file) });
      }
    },
  };
}
