import { stat } from 'node:fs/promises';
import type { Adapter } from '@mor/format';
import { loadAdapter } from '@mor/format/node';
import { AdapterLoadError } from '../errors.js';

/**
 * Loads an adapter directory (adapter-format.md). A path that is missing or not a directory fails here with
 * the path in the message; problems inside the files surface as @mor/format's errors, which name the file
 * and tensor.
 */
export async function loadAdapterDir(dir: string): Promise<Adapter> {
  const info = await stat(dir).catch(() => null);
  if (!info) throw new AdapterLoadError(dir, 'no such directory');
  if (!info.isDirectory()) throw new AdapterLoadError(dir, 'not a directory (expected an adapter folder)');
  return loadAdapter(dir);
}
