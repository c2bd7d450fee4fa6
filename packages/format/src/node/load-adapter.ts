import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAdapter } from '../adapter/parse.js';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, type Adapter } from '../adapter/types.js';
import { AdapterFormatError } from '../errors.js';

/**
 * Reads and validates the adapter in `dir` (adapter_config.json + adapter_model.safetensors), MoR or PEFT LoRA.
 *
 * @throws {AdapterFormatError} for a missing file, or anything {@link parseAdapter} refuses (errors name the files
 *   by their path under `dir`).
 */
export async function loadAdapter(dir: string): Promise<Adapter> {
  const [configText, weights] = await Promise.all([
    readOrExplain(join(dir, ADAPTER_CONFIG_FILE), 'utf8'),
    readOrExplain(join(dir, ADAPTER_WEIGHTS_FILE)),
  ]);
  return parseAdapter(configText, weights, { dir });
}

async function readOrExplain(path: string): Promise<Uint8Array>;
async function readOrExplain(path: string, encoding: 'utf8'): Promise<string>;
async function readOrExplain(path: string, encoding?: 'utf8'): Promise<Uint8Array | string> {
  try {
    return encoding === undefined ? await readFile(path) : await readFile(path, encoding);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const detail =
      code === 'ENOENT'
        ? 'not found (an adapter directory needs adapter_config.json and adapter_model.safetensors)'
        : `cannot be read: ${(error as Error).message}`;
    throw new AdapterFormatError(detail, { fileName: path }, { cause: error });
  }
}
