import type { OrtModuleLike } from './ort-types.js';
import { requirePlatform } from './platform.js';

/** transformers.js looks here first for a runtime provided by the host (Deno, a custom build…). */
const ORT_SYMBOL = Symbol.for('onnxruntime');

const isNode =
  typeof globalThis.process === 'object' && typeof globalThis.process.versions?.node === 'string';

let cached: Promise<OrtModuleLike> | undefined;

/**
 * The onnxruntime module instance transformers.js runs its sessions with, resolved the way it resolves it
 * (backends/onnx.js): a host-provided runtime first, then in Node onnxruntime-node required from transformers.js'
 * own location (the registered Node platform lends it), else onnxruntime-web's `webgpu` entry (which transformers.web.js imports as a bare
 * specifier, so a bundler gives both the same instance).
 */
export function transformersOrt(): Promise<OrtModuleLike> {
  cached ??= (async () => {
    const hosted = (globalThis as Record<symbol, unknown>)[ORT_SYMBOL];
    if (hosted) return hosted as OrtModuleLike;
    if (isNode) return requirePlatform('onnxruntime-node sessions').ort();
    return (await import('onnxruntime-web/webgpu')) as unknown as OrtModuleLike;
  })();
  return cached;
}

/** Whether we run under Node (decides path reading, CUDA checks and the default device). */
export function runningInNode(): boolean {
  return isNode;
}
