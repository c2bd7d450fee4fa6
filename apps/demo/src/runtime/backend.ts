/** The onnxruntime-web backends the demo runs transformers.js on. */
export type DemoBackend = 'webgpu' | 'wasm';

/** Which backend to use and why, for the status line. */
export interface BackendChoice {
  backend: DemoBackend;
  reason: string;
  /** WebGPU only: whether the adapter has `shader-f16` (float16 models, e.g. q4f16, need it). */
  shaderF16?: boolean;
}

interface AdapterLike {
  features?: { has(name: string): boolean };
}

interface GpuLike {
  requestAdapter(): Promise<AdapterLike | null>;
}

/**
 * WebGPU when the browser hands out an adapter, else WASM. `?backend=wasm` (or `webgpu`) in the page URL forces
 * one, so the e2e tests can check both paths in one browser.
 */
export async function chooseBackend(search: string = location.search): Promise<BackendChoice> {
  const forced = new URLSearchParams(search).get('backend');
  if (forced === 'wasm') return { backend: 'wasm', reason: 'forced by ?backend=wasm' };
  const gpu = (navigator as Navigator & { gpu?: GpuLike }).gpu;
  if (!gpu) {
    if (forced === 'webgpu')
      throw new Error('?backend=webgpu asked for WebGPU, but this browser has no navigator.gpu');
    return { backend: 'wasm', reason: 'this browser exposes no navigator.gpu' };
  }
  let adapter: AdapterLike | null = null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (error) {
    adapter = null;
    console.warn('navigator.gpu.requestAdapter() failed', error);
  }
  if (adapter)
    return {
      backend: 'webgpu',
      reason: forced === 'webgpu' ? 'forced by ?backend=webgpu' : 'WebGPU adapter found',
      shaderF16: adapter.features?.has('shader-f16') ?? false,
    };
  if (forced === 'webgpu')
    throw new Error('?backend=webgpu asked for WebGPU, but navigator.gpu gave no adapter');
  return { backend: 'wasm', reason: 'navigator.gpu gave no adapter' };
}
