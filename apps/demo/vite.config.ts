import { defineConfig } from 'vite';
import { demoAssets } from './vite/demo-assets.js';

// Cross-origin isolation lets onnxruntime-web use SharedArrayBuffer (wasm threads).
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [demoAssets()],
  resolve: {
    // onnxruntime-web's non-inlined build: the wasm loader and binary come from env.backends.onnx.wasm.wasmPaths
    // (served locally under /ort/), not a CDN and not a second 26 MB copy emitted by the bundler.
    conditions: ['onnxruntime-web-use-extern-wasm', 'module', 'browser', 'development|production'],
  },
  optimizeDeps: {
    // One onnxruntime-web instance for transformers.js and @mor/engine (session recording hooks its class).
    include: ['@huggingface/transformers', 'onnxruntime-web/webgpu'],
  },
  build: {
    target: 'es2022',
    // The demo, and the training benchmark page bench/browser-train.mjs drives.
    rollupOptions: { input: { demo: 'index.html', 'bench-train': 'bench/train.html' } },
    chunkSizeWarningLimit: 4096,
  },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
});
