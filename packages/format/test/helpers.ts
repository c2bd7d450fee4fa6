// Test helpers: fixture access and hand-built (possibly corrupt) safetensors bytes.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  parseSafetensors,
  serializeSafetensors,
  type SafetensorsTensor,
  type TensorToWrite,
} from '../src/index.js';

/** Absolute path of a file or directory under the repository's fixtures/. */
export function fixturePath(relative: string): string {
  return fileURLToPath(new URL(`../../../fixtures/${relative}`, import.meta.url));
}

export const MOR_DIR = 'tiny-llama/mor-adapter';
export const LORA_DIR = 'tiny-llama/peft-lora';

export function fixtureConfig(dir: string): string {
  return readFileSync(fixturePath(`${dir}/adapter_config.json`), 'utf8');
}

export function fixtureWeights(dir: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(`${dir}/adapter_model.safetensors`)));
}

/**
 * Safetensors bytes from a header (object, or raw text to test malformed JSON) and a data section.
 * `headerLength` overrides the 8-byte length prefix (to test lies about it).
 */
export function rawSafetensors(
  header: object | string,
  data: Uint8Array | number = 0,
  headerLength?: bigint,
): Uint8Array {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + text.length + body.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(text.length), true);
  out.set(text, 8);
  out.set(body, 8 + text.length);
  return out;
}

/** A header entry. */
export function entry(dtype: string, shape: number[], begin: number, end: number) {
  return { dtype, shape, data_offsets: [begin, end] };
}

/** The fixture's tensors as writable entries (raw bytes, unchanged). */
export function fixtureTensors(dir: string): TensorToWrite[] {
  const file = parseSafetensors(fixtureWeights(dir));
  return [...file.tensors.values()].map(toWritable);
}

export function toWritable(t: SafetensorsTensor): TensorToWrite {
  if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16')
    throw new Error(`test helper: ${t.dtype}`);
  return { name: t.name, dtype: t.dtype, shape: t.shape, data: t.data };
}

/** The fixture's weights after `edit` changes the tensor list (rename, reshape, drop, add). */
export function editedWeights(dir: string, edit: (tensors: TensorToWrite[]) => TensorToWrite[]): Uint8Array {
  return serializeSafetensors(edit(fixtureTensors(dir)), { format: 'pt' });
}

/** The fixture's config with `patch` applied (a key set to undefined is removed). */
export function editedConfig(dir: string, patch: Record<string, unknown>): string {
  const config = JSON.parse(fixtureConfig(dir)) as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete config[key];
    else config[key] = value;
  }
  return JSON.stringify(config, null, 2);
}

/** Full tensor name of a module of the tiny-llama fixtures. */
export function tname(module: string, suffix: string): string {
  return `base_model.model.model.layers.0.${module}.${suffix}`;
}
