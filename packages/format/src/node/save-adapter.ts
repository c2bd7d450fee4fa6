import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { serializeAdapter, type SerializeAdapterOptions } from '../adapter/serialize.js';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, type Adapter } from '../adapter/types.js';
import { writeFilesAtomic, type FileData } from './write-file-atomic.js';

/** Options of {@link saveAdapter}. */
export interface SaveAdapterOptions extends SerializeAdapterOptions {
  /**
   * More files for the directory, by name (e.g. `training_summary.json`), written in the same step: a failed save
   * replaces none of them, and they are renamed into place after the adapter's own.
   */
  alongside?: Readonly<Record<string, FileData>>;
}

/**
 * Writes `adapter` to `dir` (created if needed) as adapter_model.safetensors + adapter_config.json. Everything is
 * serialized (and validated) before the first byte is written, and both files are written in full before either
 * replaces its old copy, so a failed save (a full disk) leaves the previous adapter as it was. The weights are
 * renamed into place first, so that a config never points at weights from an older save.
 *
 * @throws {FileWriteError} naming the file that could not be written (`no space left on device (ENOSPC)`, …).
 */
export async function saveAdapter(
  dir: string,
  adapter: Adapter,
  options: SaveAdapterOptions = {},
): Promise<void> {
  const { alongside = {}, ...serialize } = options;
  const { configJson, safetensors } = serializeAdapter(adapter, serialize);
  await mkdir(dir, { recursive: true });
  await writeFilesAtomic([
    { path: join(dir, ADAPTER_WEIGHTS_FILE), data: safetensors },
    { path: join(dir, ADAPTER_CONFIG_FILE), data: configJson },
    ...Object.entries(alongside).map(([name, data]) => ({ path: join(dir, name), data })),
  ]);
}
