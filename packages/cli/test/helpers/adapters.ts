import { saveAdapter } from '@mor/format/node';
import type { LoraAdapter, MorAdapter } from '@mor/format';

export { randomLoraAdapter, randomMorAdapter, type TargetLayer } from '@mor/model-builder';

/** Saves an adapter and returns its directory. */
export async function saveTo(dir: string, adapter: MorAdapter | LoraAdapter): Promise<string> {
  await saveAdapter(dir, adapter);
  return dir;
}
