import { env } from '@huggingface/transformers';

/** URL prefix of the bundled models (served from models/ and fixtures/ by the Vite plugin, copied into dist/ on build). */
export const LOCAL_MODEL_PATH = '/models/';
/** Models served under {@link LOCAL_MODEL_PATH}; any other id is fetched from the Hugging Face Hub. */
export const BUNDLED_MODEL_IDS = ['wordnet-llama', 'tiny-llama-kv'] as const;

/** Whether `modelId` is one of the models this page serves itself. */
export function isBundledModel(modelId: string): boolean {
  return (BUNDLED_MODEL_IDS as readonly string[]).includes(modelId);
}

/**
 * Points transformers.js at the locally served models and onnxruntime-web files. The default wasmPaths is a CDN
 * the demo must not depend on (and cannot reach offline). Remote models stay off unless a Hub id is loaded.
 */
export function configureTransformersEnv(options: { allowRemote: boolean }): void {
  env.allowLocalModels = true;
  env.localModelPath = LOCAL_MODEL_PATH;
  env.allowRemoteModels = options.allowRemote;
  const onnx = env.backends.onnx as { wasm?: { wasmPaths?: unknown } };
  if (!onnx.wasm) throw new Error('transformers.js exposes no onnxruntime-web wasm settings');
  const base = new URL('/ort/', location.href).href;
  onnx.wasm.wasmPaths = {
    mjs: `${base}ort-wasm-simd-threaded.asyncify.mjs`,
    wasm: `${base}ort-wasm-simd-threaded.asyncify.wasm`,
  };
}
