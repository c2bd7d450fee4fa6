import ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';

export { webgpuSkipReason } from '../src/index.js';

// The backends our users run, opened from Node: WebGPU through onnxruntime-node (Dawn; SwiftShader where no GPU is
// present) and WASM through onnxruntime-web (the same build the browser loads).

export type Ep = 'cpu' | 'webgpu' | 'wasm';

ortWeb.env.wasm.numThreads = 1;

/** A session on `ep`. WASM runs in onnxruntime-web, whose tensors are converted at the boundary. */
export async function open(bytes: Uint8Array, ep: Ep): Promise<ort.InferenceSession> {
  if (ep !== 'wasm') return ort.InferenceSession.create(bytes, { executionProviders: [ep] });
  const s = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const run = async (feeds: Record<string, ort.Tensor>) => {
    const webFeeds = Object.fromEntries(
      Object.entries(feeds).map(([k, t]) => [
        k,
        new ortWeb.Tensor(t.type as 'float32', t.data as Float32Array, t.dims),
      ]),
    );
    const out = await s.run(webFeeds);
    return Object.fromEntries(
      Object.entries(out).map(([k, t]) => [
        k,
        new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims),
      ]),
    );
  };
  return { inputNames: s.inputNames, outputNames: s.outputNames, run, release: () => s.release() } as never;
}
