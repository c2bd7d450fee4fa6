import { existsSync } from 'node:fs';

/**
 * Why onnxruntime-node's WebGPU EP cannot run on this machine, or null: Dawn needs a Vulkan loader and an ICD
 * (`VK_ICD_FILENAMES`; SwiftShader's where no GPU is present). The tests of every package skip with this reason.
 */
export function webgpuSkipReason(): string | null {
  const icd = process.env['VK_ICD_FILENAMES'];
  if (!icd) return 'VK_ICD_FILENAMES is not set';
  if (!existsSync(icd)) return `VK_ICD_FILENAMES names a missing file (${icd})`;
  const dirs = [
    ...(process.env['LD_LIBRARY_PATH'] ?? '').split(':'),
    '/usr/lib/x86_64-linux-gnu',
    '/lib/x86_64-linux-gnu',
    '/usr/lib',
  ];
  return dirs.some((d) => d && existsSync(`${d}/libvulkan.so.1`))
    ? null
    : 'no Vulkan loader (libvulkan.so.1)';
}
