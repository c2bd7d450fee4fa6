import { encodeModel, type ModelProto } from '@mor/onnx';

/** A model encoded for `InferenceSession.create`: its protobuf bytes, and in-memory external data if needed. */
export interface SessionModel {
  bytes: Uint8Array;
  /** onnxruntime's `sessionOptions.externalData` entries (`path` as the graph names it); empty when inline. */
  externalData: Array<{ path: string; data: Uint8Array }>;
}

/** Tensors of at least this many bytes travel as external data (see {@link encodeForSession}). */
export const SESSION_EXTERNAL_DATA_THRESHOLD = 1 << 20;

/**
 * Encodes `model` for onnxruntime: tensors of at least `externalDataThreshold` bytes (default 1 MiB) as
 * in-memory external data, one entry per tensor viewing the tensor's own bytes (no copy), the rest inline.
 * Besides keeping models past protobuf's 2 GiB limit loadable, this skips protobuf-es' slow path for large byte
 * fields (~9 s per GiB of weights encoded inline).
 */
export function encodeForSession(
  model: ModelProto,
  externalDataThreshold = SESSION_EXTERNAL_DATA_THRESHOLD,
): SessionModel {
  return encodeExternal(model, externalDataThreshold);
}

function encodeExternal(model: ModelProto, threshold: number): SessionModel {
  // maxExternalFileBytes 0: every tensor its own "file" of one chunk, the tensor's bytes themselves.
  const { model: bytes, externalData } = encodeModel(model, {
    externalDataThreshold: threshold,
    maxExternalFileBytes: 0,
  });
  return {
    bytes,
    externalData: externalData.map((f) => ({
      path: f.location,
      data: f.chunks.length === 1 ? f.chunks[0]! : concat(f.chunks, f.byteLength),
    })),
  };
}

function concat(chunks: Uint8Array[], byteLength: number): Uint8Array {
  const out = new Uint8Array(byteLength);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** `options` plus the model's external data, for `InferenceSession.create(model.bytes, …)`. */
export function sessionOptionsFor<T extends object>(model: SessionModel, options: T): T {
  return model.externalData.length > 0 ? { ...options, externalData: model.externalData } : options;
}

/** `InferenceSession.create` as the callers here use it: a model path (Node) or the model's bytes. */
export type CreateSession<S> = (source: string | Uint8Array, options: Record<string, unknown>) => Promise<S>;

/**
 * Opens `model` with `create`. With `viaFiles` (Node with onnxruntime-node) a model that has external data goes
 * through a temporary directory, which onnxruntime maps instead of copying (node/temp-model-files.ts);
 * otherwise (the browser, onnxruntime-web) the external data is handed over in memory.
 */
export async function openSessionModel<S>(
  model: SessionModel,
  create: CreateSession<S>,
  options: Record<string, unknown>,
  viaFiles: boolean,
): Promise<S> {
  if (viaFiles && model.externalData.length > 0) {
    const { openThroughTempDir } = await import('./node/temp-model-files.js');
    return openThroughTempDir(model, (path) => create(path, options));
  }
  return create(model.bytes, sessionOptionsFor(model, options));
}
