import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from '../../adapter/types.js';
import { AdapterFormatError } from '../../errors.js';
import {
  pushAdapterFiles,
  type PushAdapterFilesOptions,
  type PushAdapterResult,
} from '../../hub/push-adapter-files.js';
import { TRAINING_SUMMARY_FILE } from '../../hub/training-summary.js';

/** Options of {@link pushAdapter}: those of `pushAdapterFiles`, with a directory instead of bytes. */
export interface PushAdapterOptions extends Omit<PushAdapterFilesOptions, 'files' | 'sourceName'> {
  /** The adapter directory: adapter_config.json, adapter_model.safetensors, optionally training_summary.json. */
  dir: string;
}

/**
 * Publishes the adapter in `dir` to a Hub model repository in one commit (config and weights byte for byte, a
 * generated model card, and training_summary.json when the directory has one). The files are read once and
 * validated as `loadAdapter` would before anything is uploaded.
 *
 * @throws {AdapterFormatError | SafetensorsError} for a missing or invalid adapter file (named by its path).
 * @throws {HubError} for Hub failures; the message never contains the token.
 */
export async function pushAdapter(options: PushAdapterOptions): Promise<PushAdapterResult> {
  const { dir, ...rest } = options;
  // One after the other, so that a missing directory is reported by its first file, every time.
  const config = await readRequired(join(dir, ADAPTER_CONFIG_FILE));
  const weights = await readRequired(join(dir, ADAPTER_WEIGHTS_FILE));
  const trainingSummary = await readOptional(join(dir, TRAINING_SUMMARY_FILE));
  return pushAdapterFiles({ ...rest, files: { config, weights, trainingSummary }, sourceName: dir });
}

async function readRequired(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const detail =
      code === 'ENOENT'
        ? 'not found (an adapter directory needs adapter_config.json and adapter_model.safetensors)'
        : `cannot be read: ${(error as Error).message}`;
    throw new AdapterFormatError(detail, { fileName: path }, { cause: error });
  }
}

async function readOptional(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AdapterFormatError(
      `cannot be read: ${(error as Error).message}`,
      { fileName: path },
      { cause: error },
    );
  }
}
