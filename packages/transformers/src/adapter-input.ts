import type { Adapter } from '@mor/format';
import { AdapterLoadError, registeredPlatform, PlatformMissingError } from '@mor/engine';

/** An adapter, or (in Node) the path of an adapter directory. */
export type AdapterInput = Adapter | string;

/** Loads `input` when it is a directory path (through the registered Node platform); returns it unchanged when it already is an adapter. */
export async function resolveAdapter(input: AdapterInput): Promise<Adapter> {
  if (typeof input !== 'string') return input;
  const platform = registeredPlatform();
  if (!platform) {
    const missing = new PlatformMissingError('adapter paths');
    throw new AdapterLoadError(input, missing.message, { cause: missing });
  }
  return platform.loadAdapterDir(input);
}
