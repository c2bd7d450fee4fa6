// The onnxruntime-web instance the page runs. transformers.js imports the bare `onnxruntime-web/webgpu` entry
// (its browser build); importing the same specifier here gives the same module instance (vite.config.ts
// pre-bundles it once for both), so training shares its wasm runtime, threads, `env` settings and WebGPU device.
// That one entry serves both backends: the `webgpu` execution provider, and `wasm` (CPU) on the same runtime.
import * as ortWeb from 'onnxruntime-web/webgpu';
import type { TrainOrt } from '@mor/engine';

interface ModelSessions {
  sessions: Record<string, unknown>;
}

/**
 * onnxruntime-web, checked to be the instance transformers.js created `model`'s sessions with: a second copy
 * (a bundler duplicating the package) would start its own wasm runtime and WebGPU device, which neither shares
 * `env.backends.onnx` settings nor accepts GPU buffers made by the other.
 */
export function pageOrt(model: ModelSessions): TrainOrt {
  const sessions = Object.values(model.sessions);
  if (sessions.length === 0) throw new Error('the model has no onnxruntime sessions');
  // onnxruntime-common declares InferenceSession as a factory object; at runtime it is the session class.
  const sessionClass = ortWeb.InferenceSession as unknown as new (...args: never[]) => unknown;
  for (const session of sessions) {
    if (!(session instanceof sessionClass))
      throw new Error(
        'the model runs on a different onnxruntime-web instance than the one the trainer imported ' +
          '(the bundle holds two copies of onnxruntime-web)',
      );
  }
  return ortWeb as unknown as TrainOrt;
}
