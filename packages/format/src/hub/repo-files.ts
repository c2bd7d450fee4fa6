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
 * The repository's files at `revision` (every folder), by path.
 *
 * @throws {HubError} reason `not-found` naming the repository or the revision that does not exist; reason `hub`
 *   for a listing holding a path that could escape the directory pulled into (see {@link unsafeRepoPath}); others
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
  try {
    for await (const entry of listFiles({ ...common, revision, recursive: true })) {
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
