import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Adapter } from '@mor/format';
import { loadAdapter, pullAdapter } from '@mor/format/node';
import { AdapterLoadError } from '../errors.js';
import { HUB_ID, notHereNorHubId, notHereNorOnHub } from './not-here-error.js';

/** Where adapters pulled by id are kept: `$MOR_CACHE`, else `~/.cache/mor/adapters`. */
function adapterCacheDir(repo: string, revision: string): string {
  const root = process.env['MOR_CACHE'] ?? join(homedir(), '.cache', 'mor', 'adapters');
  return join(root, repo.replace('/', '--'), revision.replace(/[^\w.-]/g, '_'));
}

async function pullById(id: string, repo: string, revision: string | undefined): Promise<Adapter> {
  const rev = revision ?? 'main';
  const out = adapterCacheDir(repo, rev);
  const token = process.env['HF_TOKEN'];
  try {
    const pulled = await pullAdapter({
      repo,
      out,
      revision: rev,
      ...(process.env['HF_ENDPOINT'] ? { hubUrl: process.env['HF_ENDPOINT'] } : {}),
      ...(token ? { accessToken: token } : {}),
    });
    return pulled.adapter;
  } catch (e) {
    // Offline or refused: an earlier pull of the same revision still serves.
    const cached = await stat(join(out, 'adapter_config.json')).catch(() => null);
    if (cached) return loadAdapter(out);
    throw notHereNorOnHub('adapter', id, e);
  }
}

/**
 * Loads an adapter directory (adapter-format.md), or — when `dir` is not a local path but looks like a Hub id
 * (`owner/name`, optionally `owner/name@revision`) — pulls it from the Hub (`HF_ENDPOINT`, `HF_TOKEN`) into
 * the cache (`$MOR_CACHE`, else `~/.cache/mor/adapters`) first. A path that is missing or not a directory fails
 * here with the path in the message; problems inside the files surface as @mor/format's errors, which name the
 * file and tensor.
 */
export async function loadAdapterDir(dir: string): Promise<Adapter> {
  const info = await stat(dir).catch(() => null);
  if (!info) {
    const hub = HUB_ID.exec(dir);
    if (hub && !dir.startsWith('.')) return pullById(dir, hub[1]!, hub[2]);
    throw notHereNorHubId('adapter', dir);
  }
  if (!info.isDirectory()) throw new AdapterLoadError(dir, 'not a directory (expected an adapter folder)');
  return loadAdapter(dir);
}
