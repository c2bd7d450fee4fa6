import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Adapter } from '../../adapter/types.js';
import { ADAPTER_CONFIG_FILE } from '../../adapter/types.js';
import {
  fetchAdapterFiles,
  type FetchAdapterFilesOptions,
  type PulledFile,
} from '../../hub/fetch-adapter-files.js';
import { FileWriteError } from '../file-write-error.js';
import { writeFilesAtomic } from '../write-file-atomic.js';

/** Options of {@link pullAdapter}. */
export interface PullAdapterOptions extends FetchAdapterFilesOptions {
  /** Directory to write the adapter to (created; an existing adapter there is replaced file by file). */
  out: string;
}

/** What a pull wrote. */
export interface PullAdapterResult {
  repo: string;
  revision: string;
  /** The output directory, as given. */
  out: string;
  adapter: Adapter;
  files: Array<{ path: string; size: number }>;
}

/**
 * Downloads the adapter in a Hub repository (adapter_config.json, adapter_model.safetensors, and README.md /
 * training_summary.json when present) into `out`. Everything is downloaded, checked against the hashes the Hub
 * lists and validated with `parseAdapter` in memory first, so a broken download writes nothing. A new `out` is
 * filled in a hidden sibling directory and renamed into place in one step; into an existing directory every file
 * is written in full before any replaces its old copy (a full disk leaves the previous pull as it was), and the
 * config is renamed last, so the config never points at weights of an older pull.
 *
 * @throws {HubError} for Hub failures (token redacted); {@link AdapterFormatError} / `SafetensorsError` for files
 *   that are not a valid adapter.
 */
export async function pullAdapter(options: PullAdapterOptions): Promise<PullAdapterResult> {
  const { out, ...fetchOptions } = options;
  // Checked before downloading: a bad destination should not cost a (possibly large) download first.
  const existing = await pathKind(out);
  if (existing === 'other') throw new Error(`cannot pull into ${out}: it exists and is not a directory`);
  const fetched = await fetchAdapterFiles(fetchOptions);
  await writeAdapterDir(out, fetched.files, existing === 'missing');
  return {
    repo: fetched.repo,
    revision: fetched.revision,
    out,
    adapter: fetched.adapter,
    files: fetched.files.map((f) => ({ path: f.path, size: f.bytes.length })),
  };
}

async function writeAdapterDir(out: string, files: PulledFile[], isNew: boolean): Promise<void> {
  if (isNew) {
    const target = resolve(out);
    await mkdir(dirname(target), { recursive: true });
    const staging = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.partial`);
    try {
      await mkdir(staging);
      await writeFilesAtomic(files.map((f) => ({ path: join(staging, f.path), data: f.bytes })));
      await rename(staging, target);
      return;
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      if (error instanceof FileWriteError) throw error.relocated(staging, target);
      // Another process created `out` meanwhile: fall through to the file-by-file path below.
      if (!['EEXIST', 'ENOTEMPTY'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
  }
  await mkdir(out, { recursive: true });
  const configLast = [
    ...files.filter((f) => f.path !== ADAPTER_CONFIG_FILE),
    ...files.filter((f) => f.path === ADAPTER_CONFIG_FILE),
  ];
  await writeFilesAtomic(configLast.map((f) => ({ path: join(out, f.path), data: f.bytes })));
}

async function pathKind(path: string): Promise<'missing' | 'dir' | 'other'> {
  try {
    return (await stat(path)).isDirectory() ? 'dir' : 'other';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
}
