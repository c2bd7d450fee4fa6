/**
 * The few ONNX Runtime shapes this package touches, written structurally so that one code path serves
 * onnxruntime-node, onnxruntime-web and a runtime exposed through `globalThis[Symbol.for('onnxruntime')]`
 * without importing any of them.
 */

/** An ONNX Runtime tensor (onnxruntime-common's `Tensor`), as far as we read it. */
export interface OrtTensorLike {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
  readonly location?: string;
  getData?(releaseData?: boolean): Promise<unknown>;
  /** Frees the tensor's data (its GPU buffer on WebGPU). */
  dispose(): void;
}

/** A created `InferenceSession`. transformers.js also stores `{ dtype, device }` on it as `config`. */
export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, unknown>, ...rest: unknown[]): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
  config?: { dtype?: string; device?: string } & Record<string, unknown>;
}

/** Session options as transformers.js builds them (executionProviders, externalData, …); passed through. */
export type OrtSessionOptions = Record<string, unknown>;

/** `InferenceSession` as a class: only the static factory matters to us. */
export interface OrtSessionClass {
  create(source: string | Uint8Array, options?: OrtSessionOptions): Promise<OrtSessionLike>;
}

/** The element types we create tensors of. */
export type OrtTensorType = 'float32' | 'float16' | 'int32' | 'int64' | 'bool';

/** `Tensor` as a class: built from host data (the data's array type follows `type`). */
export type OrtTensorClass = new (type: OrtTensorType, data: never, dims: readonly number[]) => OrtTensorLike;

/** The part of an ONNX Runtime module we use: sessions (patching, training) and tensors (training feeds). */
export interface OrtModuleLike {
  readonly InferenceSession: OrtSessionClass;
  readonly Tensor: OrtTensorClass;
}

/**
 * The class a live session was made by. Creating the patched session through it guarantees the SAME
 * onnxruntime module instance as transformers.js (two copies of onnxruntime-common would not share
 * registered backends or tensor classes).
 */
export function sessionClassOf(session: OrtSessionLike): OrtSessionClass {
  const ctor = (session as { constructor?: Partial<OrtSessionClass> }).constructor;
  if (!ctor || typeof ctor.create !== 'function') {
    throw new TypeError('the model session is not an onnxruntime InferenceSession (no static create())');
  }
  return ctor as OrtSessionClass;
}
