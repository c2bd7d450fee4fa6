/** The onnxruntime execution provider for each training device. */
const PROVIDERS = { cpu: 'cpu', webgpu: 'webgpu', cuda: 'cuda', wasm: 'wasm' } as const;

/** Devices whose outputs can stay on the device between runs (`gpu-buffer`). */
export function keepsOutputsOnDevice(device: keyof typeof PROVIDERS): boolean {
  // onnxruntime-node/web return WebGPU outputs as GPU buffers; the CUDA EP of onnxruntime-node has no such
  // output location, so CUDA training copies parameters back each step (see README, gaps).
  return device === 'webgpu';
}

/**
 * What training sessions set unless the caller's `sessionOptions` say otherwise, so that the base model's
 * weights are held once (measured on a 135M Llama, bench/README.md "Training at real sizes"):
 * - no prepacking: MLAS would keep a packed copy of every constant MatMul/Gemm weight beside the mapped original
 *   (~800 MB there) for ~2 % of step CPU time;
 * - no memory pattern: after the first run onnxruntime would allocate one block for the whole run's activations
 *   on top of what its arena already holds from that run (~850 MB there); the arena alone reuses its chunks.
 */
export const TRAIN_MEMORY_OPTIONS: Readonly<Record<string, unknown>> = {
  enableMemPattern: false,
  extra: { session: { disable_prepacking: '1' } },
};

/**
 * Session options of a training session on `device`: outputs in `resident` (updated parameters and optimizer
 * state) stay on the device as `gpu-buffer` tensors when the device allows it, everything else (loss, norms,
 * gradients) comes back to the CPU.
 */
export function trainSessionOptions(
  device: keyof typeof PROVIDERS,
  outputs: readonly string[],
  resident: ReadonlySet<string>,
): Record<string, unknown> {
  const options: Record<string, unknown> = { executionProviders: [PROVIDERS[device]] };
  if (keepsOutputsOnDevice(device))
    options['preferredOutputLocation'] = Object.fromEntries(
      outputs.map((o) => [o, resident.has(o) ? 'gpu-buffer' : 'cpu']),
    );
  return options;
}
