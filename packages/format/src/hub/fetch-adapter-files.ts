import { parseAdapter } from '../adapter/parse.js';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, type Adapter } from '../adapter/types.js';
import { HubError } from './hub-error.js';
import type { HubConnectionOptions } from './hub-options.js';
import { MODEL_CARD_FILE } from './model-card.js';
import { downloadRepoFile, openPull } from './repo-files.js';
import { TRAINING_SUMMARY_FILE } from './training-summary.js';
import { readDownload } from './verify-download.js';

/** Files a pull takes when the repository has them; the first two are required. */
export const PULLED_FILES = [
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  MODEL_CARD_FILE,
  TRAINING_SUMMARY_FILE,
] as const;

/** Options of {@link fetchAdapterFiles}. */
export interface FetchAdapterFilesOptions extends HubConnectionOptions {
  /** `OWNER/NAME` of the model repository. */
  repo: string;
  /** Branch, tag or commit. @default "main" */
  revision?: string | undefined;
}

/** One downloaded file. */
export interface PulledFile {
  path: string;
  bytes: Uint8Array;
}

/** A downloaded and validated adapter. */
export interface FetchedAdapter {
  repo: string;
  revision: string;
  adapter: Adapter;
  /** In {@link PULLED_FILES} order: config, weights, then README.md / training_summary.json when present. */
  files: PulledFile[];
}

/**
 * Downloads an adapter from a Hub repository into memory and validates it: every file is checked against the
 * size and hash the Hub lists for it, and the adapter must pass {@link parseAdapter}. Browser-safe; in Node,
 * `pullAdapter` writes the result to a directory.
 *
 * @throws {HubError} reason `not-found` for a missing repository, revision or adapter file; `auth` for a refused
 *   token; `network`/`hub` otherwise (token redacted); reason `hub` for a download that does not match its hash.
 * @throws {AdapterFormatError | SafetensorsError} for downloaded files that are not a valid adapter.
 */
export async function fetchAdapterFiles(options: FetchAdapterFilesOptions): Promise<FetchedAdapter> {
  const { repo, revision, connection, failure, entries } = await openPull(options);
  for (const required of [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE]) {
    if (!entries.has(required)) {
      throw new HubError(`${repo}@${revision} is not an adapter repository: it has no ${required}`, {
        repo,
        reason: 'not-found',
      });
    }
  }
  const wanted = PULLED_FILES.filter((path) => entries.has(path));
  const files = await Promise.all(
    wanted.map(async (path): Promise<PulledFile> => {
      const blob = await downloadRepoFile(repo, revision, path, connection, failure);
      return { path, bytes: await readDownload(blob, entries.get(path)!, revision, failure) };
    }),
  );
  const dir = `${connection.hubUrl}/${repo}/resolve/${revision}`;
  const adapter = parseAdapter(new TextDecoder().decode(files[0]!.bytes), files[1]!.bytes, { dir });
  return { repo, revision, adapter, files };
}
