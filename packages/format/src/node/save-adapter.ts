import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { serializeAdapter, type SerializeAdapterOptions } from '../adapter/serialize.js';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, type Adapter } from '../adapter/types.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** Options of {@link saveAdapter}. */
export type SaveAdapterOptions = SerializeAdapterOptions;

/**
 * Writes `adapter` to `dir` (created if needed) as adapter_model.safetensors + adapter_config.json. Everything is
 * serialized (and validated) before the first byte is written; each file is replaced atomically. The weights go
 * first so that a config never points at weights from an older save.
 */
export async function saveAdapter(
  dir: string,
  adapter: Adapter,
  options: SaveAdapterOptions = {},
): Promise<void> {
  const { configJson, safetensors } = serializeAdapter(adapter, options);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, ADAPTER_WEIGHTS_FILE), safetensors);
  await writeFileAtomic(join(dir, ADAPTER_CONFIG_FILE), configJson);
}
