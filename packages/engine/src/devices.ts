import { BackendUnavailableError, UnsupportedDeviceError } from './errors.js';
import { runningInNode } from './ort-module.js';
import { registeredPlatform, requirePlatform } from './platform.js';

/** The devices an adapted model can run on (docs/cli.md `--device`). */
export const MOR_DEVICES = ['cpu', 'webgpu', 'cuda', 'wasm'] as const;

/** One of {@link MOR_DEVICES}. */
export type MorDevice = (typeof MOR_DEVICES)[number];

/** The devices that make sense where we run: Node has no wasm backend in transformers.js, browsers no cpu/cuda. */
export function devicesHere(): MorDevice[] {
  return runningInNode() ? ['cpu', 'webgpu', 'cuda'] : ['webgpu', 'wasm'];
}

/** The device used when the caller names none: what transformers.js itself defaults to. */
export function defaultDevice(): MorDevice {
  return runningInNode() ? 'cpu' : 'wasm';
}

/**
 * Checks a device name before any model is loaded, so a typo or a missing backend fails with a message that
 * lists the valid choices or says what to install — instead of onnxruntime's "Failed to load shared library"
 * halfway through loading. Returns the device, narrowed.
 */
export async function checkDevice(device: string): Promise<MorDevice> {
  if (!(MOR_DEVICES as readonly string[]).includes(device))
    throw new UnsupportedDeviceError(device, MOR_DEVICES);
  const d = device as MorDevice;
  if (!devicesHere().includes(d)) {
    throw new BackendUnavailableError(
      d,
      runningInNode() ? 'the wasm backend is for browsers' : `the ${d} backend needs Node (onnxruntime-node)`,
      `Valid devices here: ${devicesHere().join(', ')}.`,
    );
  }
  if (runningInNode()) {
    // The cuda check reads onnxruntime-node's folder; webgpu only gets Dawn's runtime folder (cosmetic).
    const platform = d === 'cuda' ? requirePlatform('cuda device checks') : registeredPlatform();
    const missing = platform?.prepareDevice(d);
    if (missing) throw new BackendUnavailableError(d, missing.reason, missing.hint);
  }
  if (
    d === 'webgpu' &&
    !runningInNode() &&
    !(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu
  ) {
    throw new BackendUnavailableError(d, 'this browser exposes no navigator.gpu', 'Use device "wasm".');
  }
  return d;
}

/**
 * Turns a WebGPU session-creation failure into a {@link BackendUnavailableError}: in Node, onnxruntime-node's
 * Dawn needs a Vulkan (Linux), Metal or D3D12 driver, and without one the raw error does not say so.
 */
export function explainDeviceFailure(device: string | undefined, error: unknown): unknown {
  if (device !== 'webgpu' || !runningInNode()) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (!/webgpu|adapter|dawn|vulkan/i.test(message)) return error;
  const failure = new BackendUnavailableError(
    'webgpu',
    `onnxruntime-node could not start WebGPU (${message.split('\n')[0]})`,
    'On Linux it needs the Vulkan loader (libvulkan.so.1, Debian package libvulkan1) and a Vulkan driver: a GPU ' +
      "driver, or a software one such as Chromium's SwiftShader (after installing chromium: " +
      'LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json).',
  );
  (failure as { cause?: unknown }).cause = error;
  return failure;
}
