import type { Adapter } from '@mor/format';
import { AdapterLoadError } from './errors.js';
import { runningInNode } from './ort-module.js';

/** An adapter, or (in Node) the path of an adapter directory. */
export type AdapterInput = Adapter | string;

/** Loads `input` when it is a directory path; returns it unchanged when it already is an adapter. */
export async function resolveAdapter(input: AdapterInput): Promise<Adapter> {
  if (typeof input !== 'string') return input;
  if (!runningInNode()) {
    throw new AdapterLoadError(
      input,
      'adapter paths are read from the file system in Node only; pass an Adapter',
    );
  }
  const { loadAdapterDir } = await import('./node/load-adapter-dir.js');
  return loadAdapterDir(input);
}
