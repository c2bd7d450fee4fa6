import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { ListFileEntry } from '@huggingface/hub';
import { HubError, toHubError, type HubFailure } from '../../hub/hub-error.js';
import type { HubConnectionOptions } from '../../hub/hub-options.js';
import { downloadRepoFile, openPull } from '../../hub/repo-files.js';
import { stageFile, writeFileAtomic, type StagedFile } from '../write-file-atomic.js';

/** Options of {@link pullRepoFiles}. */
export interface PullRepoFilesOptions extends HubConnectionOptions {
  /** `OWNER/NAME` of the model repository. */
  repo: string;
  /** Branch, tag or commit. @default "main" */
  revision?: string | undefined;
  /** Directory the files go to, sub-folders kept (created). */
  out: string;
  /**
   * Picks what to download from the paths the repository holds; may throw to refuse the repository (e.g. a
   * required file is missing) before anything is downloaded.
   */
  select: (paths: string[]) => string[];
}

/** What {@link pullRepoFiles} did. */
export interface PullRepoFilesResult {
  repo: string;
  revision: string;
  out: string;
  /** Files fetched by this pull. */
  downloaded: string[];
  /** Files an earlier pull had already fetched with the same content (not downloaded again). */
  kept: string[];
}

/** Where a pull records which content each file holds, so the next pull only fetches what changed. */
export const PULL_MANIFEST_FILE = '.mor-pull.json';

interface Manifest {
  repo: string;
  revision: string;
  files: Record<string, { oid: string; size: number }>;
}

const sizeOf = (e: ListFileEntry) => e.lfs?.size ?? e.size;
/** The listed content hash ('' when the listing has none: such a file is always downloaded again). */
const oidOf = (e: ListFileEntry): string => e.lfs?.oid ?? e.oid ?? '';

/**
 * Downloads the selected files of a Hub repository into `out`, streaming each one to disk (model weights may be
 * GiBs) while hashing it, and checks it against the size and hash the Hub lists (sha256 for LFS files, git's
 * blob id for the others). A file that an earlier pull into `out` fetched with the same hash is kept, not
 * downloaded again. Every changed file is downloaded and checked under a temporary name before any file in `out`
 * is replaced, so a download that fails or does not match its listing leaves the previous pull as it was (files
 * and manifest: it still serves); the disk thus needs room for the old and new copies of what changed. The
 * manifest ({@link PULL_MANIFEST_FILE}) is removed before the first file is renamed into place and written last,
 * so its presence means the directory holds one complete pull.
 *
 * @throws {HubError} for Hub failures (token redacted), for a listing with a path that could leave `out`, and for
 *   downloads that do not match the listing.
 * @throws {FileWriteError} naming the file when writing fails (a full disk: `no space left on device`).
 */
export async function pullRepoFiles(options: PullRepoFilesOptions): Promise<PullRepoFilesResult> {
  const { repo, revision, connection, failure, entries } = await openPull(options);
  const wanted = options.select([...entries.keys()]);
  const out = resolve(options.out);
  const previous = await readManifest(out);
  const manifest: Manifest = { repo, revision, files: {} };
  const result: PullRepoFilesResult = { repo, revision, out: options.out, downloaded: [], kept: [] };
  const staged: StagedFile[] = [];
  try {
    for (const path of wanted) {
      const entry = entries.get(path);
      if (!entry)
        throw new HubError(`${repo}@${revision} has no file ${path}`, { repo, reason: 'not-found' });
      const target = join(out, ...path.split('/'));
      if (!target.startsWith(out + sep))
        throw new HubError(`${repo}@${revision}: refusing the path ${path}`, { repo, reason: 'hub' });
      const known = previous?.files[path];
      const onDisk = await stat(target).catch(() => null);
      if (known && known.oid !== '' && known.oid === oidOf(entry) && onDisk?.size === sizeOf(entry)) {
        result.kept.push(path);
      } else {
        const blob = await downloadRepoFile(repo, revision, path, connection, failure);
        staged.push(await download(target, entry, blob, revision, failure));
        result.downloaded.push(path);
      }
      manifest.files[path] = { oid: oidOf(entry), size: sizeOf(entry) };
    }
  } catch (error) {
    await Promise.all(staged.map((f) => f.discard()));
    throw error;
  }
  // Until the new manifest is written, the directory claims no complete pull: a run stopped between the renames
  // must not leave old and new files passing for one.
  if (staged.length > 0) await rm(join(out, PULL_MANIFEST_FILE), { force: true });
  for (const [i, f] of staged.entries()) {
    try {
      await f.commit();
    } catch (error) {
      await Promise.all(staged.slice(i + 1).map((g) => g.discard()));
      throw error;
    }
  }
  await writeFileAtomic(join(out, PULL_MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  return result;
}

async function readManifest(out: string): Promise<Manifest | null> {
  try {
    return JSON.parse(await readFile(join(out, PULL_MANIFEST_FILE), 'utf8')) as Manifest;
  } catch {
    return null; // first pull, or a damaged manifest: everything is downloaded again
  }
}

/**
 * Streams `blob` through a hash into a temporary file beside `target` and checks size and hash; the caller
 * renames it into place ({@link StagedFile.commit}) once every file of the pull has passed.
 */
async function download(
  target: string,
  entry: ListFileEntry,
  blob: Blob,
  revision: string,
  failure: HubFailure,
): Promise<StagedFile> {
  const where = { repo: failure.repo, revision };
  await mkdir(dirname(target), { recursive: true });
  const size = sizeOf(entry);
  const fail = (what: string): never => {
    throw new HubError(
      `${where.repo}@${where.revision}: ${entry.path}: the download does not match the repository (${what}); try again`,
      { repo: where.repo, reason: 'hub' },
    );
  };
  // LFS files are listed by the sha256 of their content; the others by git's blob id (sha1 of a header + content).
  const hash = entry.lfs ? createHash('sha256') : createHash('sha1').update(`blob ${size}\0`);
  let received = 0;
  async function* hashed(): AsyncIterable<Uint8Array> {
    const body = Readable.fromWeb(blob.stream() as Parameters<typeof Readable.fromWeb>[0]);
    const chunks = body[Symbol.asyncIterator]();
    for (;;) {
      // A body that fails mid-way (the server's error text may echo the token): a HubError, token redacted.
      const next = await chunks.next().catch((error: unknown) => Promise.reject(toHubError(error, failure)));
      if (next.done) return;
      const chunk = next.value as Buffer;
      received += chunk.length;
      // A server sending more than the listing says is cut off here, not after it has filled the disk.
      if (received > size) {
        body.destroy();
        fail(`more than the ${size} bytes listed`);
      }
      hash.update(chunk);
      yield chunk;
    }
  }
  const staged = await stageFile(target, hashed());
  try {
    if (received !== size) fail(`${received} bytes received, ${size} expected`);
    const digest = hash.digest('hex');
    const listed = oidOf(entry);
    const checkable = entry.lfs !== undefined || /^[0-9a-f]{40}$/.test(listed);
    if (checkable && digest !== listed)
      fail(`${entry.lfs ? 'sha256' : 'git blob id'} ${digest}, listed ${listed}`);
  } catch (error) {
    await staged.discard();
    throw error;
  }
  return staged;
}
