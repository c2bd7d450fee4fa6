import { existsSync } from 'node:fs';
import ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';

// The backends our users run, opened from Node: WebGPU through onnxruntime-node (Dawn; SwiftShader where no GPU is
// present) and WASM through onnxruntime-web (the same build the browser loads).

/** Why WebGPU cannot run here, or null (Dawn needs a Vulkan loader and an ICD). */
export function webgpuSkipReason(): string | null {
  const icd = process.env['VK_ICD_FILENAMES'];
  if (!icd) return 'VK_ICD_FILENAMES is not set';
  if (!existsSync(icd)) return `VK_ICD_FILENAMES names a missing file (${icd})`;
  const dirs = [
    ...(process.env['LD_LIBRARY_PATH'] ?? '').split(':'),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib',
  ];
  return dirs.some((d) => d && existsSync(`${d}/libvulkan.so.1`))
    ? null
    : 'no Vulkan loader (libvulkan.so.1)';
}

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
