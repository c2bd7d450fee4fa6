import { downloadFile, HubApiError, listFiles, repoExists, type ListFileEntry } from '@huggingface/hub';
import { HubError, toHubError, type HubFailure } from './hub-error.js';
import { unsafeRepoPath } from './repo-path.js';
import {
  checkRepoId,
  resolveConnection,
  type HubConnectionOptions,
  type ResolvedConnection,
} from './hub-options.js';

/** What every pull starts from: the checked repository id, the revision, the connection and the listing. */
export interface OpenedPull {
  repo: string;
  revision: string;
  connection: ResolvedConnection;
  failure: HubFailure;
  /** The repository's files at `revision`, by path. */
  entries: Map<string, ListFileEntry>;
}

/** Checks the id, fills in the connection defaults and lists the repository (see {@link listRepoFiles}). */
export async function openPull(
  options: HubConnectionOptions & { repo: string; revision?: string | undefined },
): Promise<OpenedPull> {
  const repo = checkRepoId(options.repo);
  const revision = options.revision ?? 'main';
  const connection = resolveConnection(options);
  const failure: HubFailure = {
    repo,
    accessToken: connection.accessToken,
    hubUrl: connection.hubUrl,
    doing: 'pulling from',
  };
  const entries = await listRepoFiles(repo, revision, connection, failure);
  return { repo, revision, connection, failure, entries };
}

/**
 * Most pages of a file listing a pull reads. The Hub pages its tree listing (a thousand entries or so a page), so
 * this is far more files than any model repository holds; a server whose `Link: rel="next"` never ends (hostile or
 * broken) would otherwise keep a pull waiting forever.
 */
export const MAX_LISTING_PAGES = 1000;

/**
 * The repository's files at `revision` (every folder), by path.
 *
 * @throws {HubError} reason `not-found` naming the repository or the revision that does not exist; reason `hub`
 *   for a listing holding a path that could escape the directory pulled into (see {@link unsafeRepoPath}) or
 *   running past {@link MAX_LISTING_PAGES} pages; others
 *   as {@link toHubError} maps them (token redacted).
 */
async function listRepoFiles(
  repo: string,
  revision: string,
  connection: ResolvedConnection,
  failure: HubFailure,
) {
  const entries = new Map<string, ListFileEntry>();
  const { hubUrl, accessToken } = connection;
  const common = {
    repo,
    hubUrl,
    ...(accessToken && { accessToken }),
    ...(connection.fetch && { fetch: connection.fetch }),
  };
  let pages = 0;
  const baseFetch = connection.fetch ?? fetch;
  const pageFetch: typeof fetch = (input, init) =>
    ++pages > MAX_LISTING_PAGES
      ? Promise.reject(
          new HubError(
            `${repo}@${revision}: the file listing goes on past ${MAX_LISTING_PAGES} pages (a Link to a next page that never ends?): refusing to pull from it`,
            { repo, reason: 'hub' },
          ),
        )
      : baseFetch(input, init);
  try {
    for await (const entry of listFiles({ ...common, fetch: pageFetch, revision, recursive: true })) {
      refuseMalformedEntry(entry, repo, revision);
      refuseUnsafePath(entry.path, repo, revision);
      if (entry.type === 'file') entries.set(entry.path, entry);
    }
  } catch (error) {
    const status = error instanceof HubApiError ? error.statusCode : undefined;
    // Anonymous callers get 401 for private and missing repositories alike: both read as "not found" here.
    const anonymousRefusal = status === 401 && accessToken === undefined;
    if (status !== 404 && !anonymousRefusal) throw toHubError(error, failure);
    // The tree answers 404 both for a missing repository and for a missing revision: ask which.
    let exists = false;
    try {
      if (!anonymousRefusal) exists = await repoExists(common);
    } catch (inner) {
      throw toHubError(inner, failure);
    }
    const message = exists
      ? `${repo} has no revision '${revision}' on ${hubUrl}`
      : `repository ${repo} not found on ${hubUrl}${accessToken === undefined ? ' (if it is private, pass a token)' : ''}`;
    throw new HubError(message, { repo, reason: 'not-found', statusCode: 404 });
  }
  return entries;
}

/**
 * A listing entry must be what the Hub sends: an object with a string `path`, and for a file a byte `size`, a
 * string `oid` when there is one, and an `lfs` object with a string `oid` and a byte `size` when there is one;
 * the download checks rely on these. Anything else is refused whole, naming the entry.
 */
function refuseMalformedEntry(entry: unknown, repo: string, revision: string): void {
  const why = malformedEntry(entry);
  if (why !== null) {
    const path =
      isObject(entry) && typeof entry['path'] === 'string' ? ` ${JSON.stringify(entry['path'])}` : '';
    throw new HubError(
      `${repo}@${revision}: the repository's file listing is malformed: entry${path} ${why}: refusing to pull from it`,
      { repo, reason: 'hub' },
    );
  }
}

function malformedEntry(entry: unknown): string | null {
  if (!isObject(entry)) return 'is not an object';
  if (typeof entry['path'] !== 'string') return 'has no string "path"';
  if (entry['type'] !== 'file') return null; // folders: only the path is used
  if (!isByteCount(entry['size'])) return 'has no byte count "size"';
  if (entry['oid'] !== undefined && typeof entry['oid'] !== 'string')
    return 'has an "oid" that is not a string';
  const lfs = entry['lfs'];
  if (lfs === undefined) return null;
  if (!isObject(lfs) || typeof lfs['oid'] !== 'string' || !isByteCount(lfs['size']))
    return 'has an "lfs" that is not {oid, size}';
  return null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isByteCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** A listing naming `../x`, `/etc/x`, `a\b`, `a//b`, … is refused whole, naming the path, before anything is written. */
function refuseUnsafePath(path: string, repo: string, revision: string): void {
  const why = unsafeRepoPath(path);
  if (why !== null)
    throw new HubError(
      `${repo}@${revision}: the repository lists the file path ${JSON.stringify(path)}, which ${why}: refusing to pull from it`,
      { repo, reason: 'hub' },
    );
}

/**
 * Starts downloading one file (the body streams from the returned Blob).
 *
 * @throws {HubError} for a refusal (token redacted), or when the file vanished meanwhile.
 */
export async function downloadRepoFile(
  repo: string,
  revision: string,
  path: string,
  connection: ResolvedConnection,
  failure: HubFailure,
) {
  const { hubUrl, accessToken } = connection;
  let blob: Blob | null;
  try {
    blob = await downloadFile({
      repo,
      path,
      revision,
      hubUrl,
      ...(accessToken && { accessToken }),
      ...(connection.fetch && { fetch: connection.fetch }),
    });
    if (blob !== null) return blob;
  } catch (error) {
    throw toHubError(error, failure);
  }
  throw new HubError(
    `${repo}@${revision}: ${path} disappeared while downloading (was the branch updated? try again)`,
    {
      repo,
      reason: 'not-found',
    },
  );
}
