import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AutoConfig, env } from '@huggingface/transformers';
import { MorInputError } from '@mor/engine';
import { HUB_ID, hubEndpoint, notHereNorHubId, notHereNorOnHub } from '@mor/engine/node';

/** Where a model comes from: a local transformers.js directory, or a Hugging Face Hub id. */
export type ModelSource =
  | { readonly kind: 'local'; readonly dir: string; readonly id: string }
  | { readonly kind: 'hub'; readonly id: string };

/**
 * Decides whether `model` is a local directory or a Hub id. A path that exists is local (it must hold a
 * `config.json`); one that looks like a path (`./x`, `/x`, `..`) but does not exist is an error, so a typo is not
 * sent to the Hub; an `owner/name[@revision]` is taken for a Hub id, and anything else is refused.
 */
export async function resolveModelSource(model: string): Promise<ModelSource> {
  const info = await stat(model).catch(() => null);
  if (info) {
    if (!info.isDirectory())
      throw new MorInputError(`model "${model}" is a file, expected a model directory`);
    const dir = resolve(model);
    if (!(await stat(join(dir, 'config.json')).catch(() => null))) {
      throw new MorInputError(`model directory "${model}" has no config.json`);
    }
    // The absolute path as the id: transformers.js reads a path that is not Hub-id shaped as it stands, and
    // memoizes file listings by id, so two folders of the same name (`a/merged`, `b/merged`) must not share one.
    return { kind: 'local', dir, id: dir };
  }
  if (/^(\.{1,2}([\\/]|$)|[\\/]|[A-Za-z]:[\\/])/.test(model) || model.split('/').length > 2) {
    throw new MorInputError(`model directory "${model}" does not exist`);
  }
  if (!HUB_ID.test(model)) throw notHereNorHubId('model', model);
  return { kind: 'hub', id: model };
}

/**
 * Sets transformers.js' network switch for the source before loading: a local directory is read offline (by
 * its absolute path, so `env.localModelPath` is left alone); a Hub id may be downloaded. Returns the id to load.
 */
export function useModelSource(source: ModelSource): string {
  if (source.kind === 'local') {
    env.allowLocalModels = true;
    env.allowRemoteModels = false;
  } else {
    env.allowRemoteModels = true;
    // transformers.js reads no HF_ENDPOINT itself; Hub ids come from the same Hub as our pulls (docs/cli.md).
    env.remoteHost = `${hubEndpoint()}/`;
  }
  return source.id;
}

/** The model's `config.json` as a plain object. */
export async function readModelConfig(source: ModelSource): Promise<Record<string, unknown>> {
  if (source.kind === 'local') {
    const path = join(source.dir, 'config.json');
    let config: unknown;
    try {
      config = JSON.parse(await readFile(path, 'utf8'));
    } catch (e) {
      throw new MorInputError(`${path}: not a readable JSON config (${(e as Error).message})`);
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw new MorInputError(`${path}: not a JSON object (a model config is {"model_type": …, …})`);
    }
    return config as Record<string, unknown>;
  }
  const id = useModelSource(source);
  let config: Record<string, unknown>;
  try {
    config = (await AutoConfig.from_pretrained(id)) as unknown as Record<string, unknown>;
  } catch (e) {
    // The first file transformers.js fetches: an unreachable Hub or a missing repository shows up here.
    throw notHereNorOnHub('model', source.id, e);
  }
  return { ...config };
}
