import { encodeModel, type ModelProto } from '@mor/onnx';
import { requirePlatform } from './platform.js';

/** A model encoded for `InferenceSession.create`: its protobuf bytes, and in-memory external data if needed. */
export interface SessionModel {
  bytes: Uint8Array;
  /** onnxruntime's `sessionOptions.externalData` entries (`path` as the graph names it); empty when inline. */
  externalData: Array<{ path: string; data: Uint8Array }>;
}

/** Base name of the external data files {@link encodeForSession} makes (`<name>`, `<name>_1`, …). */
export const SESSION_DATA_FILE = 'mor-session.onnx_data';

/**
 * Encodes `model` for onnxruntime: tensors of at least `externalDataThreshold` bytes (default 1 MiB) as
 * in-memory external data, one entry per tensor viewing the tensor's own bytes (no copy), the rest inline.
 * Besides keeping models past protobuf's 2 GiB limit loadable, this skips protobuf-es' slow path for large byte
 * fields (~9 s per GiB of weights encoded inline).
 */
export function encodeForSession(model: ModelProto, externalDataThreshold = 1 << 20): SessionModel {
  // maxExternalFileBytes 0: every tensor is its own "file" of exactly one chunk, the tensor's bytes themselves.
  // Named apart from a model's own `model.onnx_data*`, which a session's directory may link (externalDataDir).
  const { model: bytes, externalData } = encodeModel(model, {
    externalDataThreshold,
    externalDataFile: SESSION_DATA_FILE,
    maxExternalFileBytes: 0,
  });
  return { bytes, externalData: externalData.map((f) => ({ path: f.location, data: f.chunks[0]! })) };
}

/** `InferenceSession.create` as the callers here use it: a model path (Node) or the model's bytes. */
export type CreateSession<S> = (source: string | Uint8Array, options: Record<string, unknown>) => Promise<S>;

/**
 * Opens `model` with `create`. With `viaFiles` (Node with onnxruntime-node) a model that has external data goes
 * through a temporary directory, which onnxruntime maps instead of copying (the registered Node platform);
 * otherwise (the browser, onnxruntime-web) the external data is handed over in memory.
 */
export async function openSessionModel<S>(
  model: SessionModel,
  create: CreateSession<S>,
  options: Record<string, unknown>,
  viaFiles: boolean,
): Promise<S> {
  if (viaFiles && model.externalData.length > 0) {
    return requirePlatform('file-backed sessions').openThroughFiles(model, (path) => create(path, options));
  }
  const inMemory = model.externalData.length > 0 ? { ...options, externalData: model.externalData } : options;
  return create(model.bytes, inMemory);
}
