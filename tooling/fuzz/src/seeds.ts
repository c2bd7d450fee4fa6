import { readFileSync } from 'node:fs';
import type { Seed } from './mutate.js';
import { repoPath } from './paths.js';

export { repoPath as repoPathOf };

/** A fixture file's bytes. */
export function fixtureBytes(relative: string): Uint8Array {
  const b = readFileSync(repoPath(relative));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** A seed whose whole content is hot (text formats: every byte is structure). */
export function textSeed(relative: string): Seed {
  const bytes = fixtureBytes(relative);
  return { name: relative, bytes, hotLength: bytes.length };
}

/** A safetensors seed: the 8-byte length and the JSON header are hot, the tensor data is not. */
export function safetensorsSeed(name: string, bytes: Uint8Array): Seed {
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return { name, bytes, hotLength: Math.min(bytes.length, 8 + headerLength) };
}

/** The adapter fixtures (each a directory with adapter_config.json and adapter_model.safetensors). */
export const ADAPTER_DIRS = [
  'fixtures/tiny-llama/mor-adapter',
  'fixtures/tiny-llama/mor-adapter-sgd1',
  'fixtures/tiny-llama/peft-lora',
  'fixtures/tiny-llama-kv/mor-adapter',
] as const;

export const utf8 = new TextEncoder();
export const fromUtf8 = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
