import type { SafetensorsDtype } from './dtype.js';

/** One tensor of a parsed safetensors file. */
export interface SafetensorsTensor {
  /** Full name as in the header. */
  name: string;
  dtype: SafetensorsDtype;
  /** Row-major shape; `[]` is a scalar. */
  shape: number[];
  /** The tensor's little-endian bytes: a view into the file's bytes (no copy). */
  data: Uint8Array;
}

/** A parsed safetensors file. */
export interface SafetensorsFile {
  /** The header's `__metadata__` (string to string), `{}` when absent. */
  metadata: Record<string, string>;
  /** Tensors by name, in header order. */
  tensors: Map<string, SafetensorsTensor>;
}

/** Options shared by the safetensors readers. */
export interface SafetensorsReadOptions {
  /** Name of the file the bytes came from; every error message starts with it. */
  fileName?: string;
}
