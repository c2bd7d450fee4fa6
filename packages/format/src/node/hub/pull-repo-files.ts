import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ListFileEntry } from '@huggingface/hub';
import { HubError } from '../../hub/hub-error.js';
import type { HubConnectionOptions } from '../../hub/hub-options.js';
import { downloadRepoFile, openPull } from '../../hub/repo-files.js';
import { writeFileAtomic } from '../write-file-atomic.js';

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
 * downloaded again. Every file lands by rename (no reader sees half a file, a failed download leaves the old
 * file); the manifest ({@link PULL_MANIFEST_FILE}) is removed before the first file changes and written last, so
 * its presence means the directory holds one complete pull.
 *
 * @throws {HubError} for Hub failures (token redacted) and for downloads that do not match the listing.
 */
export async function pullRepoFiles(options: PullRepoFilesOptions): Promise<PullRepoFilesResult> {
  const { repo, revision, connection, failure, entries } = await openPull(options);
  const wanted = options.select([...entries.keys()]);
  const out = resolve(options.out);
  const previous = await readManifest(out);
  const manifest: Manifest = { repo, revision, files: {} };
  const result: PullRepoFilesResult = { repo, revision, out: options.out, downloaded: [], kept: [] };
  let invalidated = false;
  for (const path of wanted) {
    const entry = entries.get(path);
    if (!entry) throw new HubError(`${repo}@${revision} has no file ${path}`, { repo, reason: 'not-found' });
    const target = join(out, ...path.split('/'));
    if (!target.startsWith(out + '/'))
      throw new HubError(`${repo}@${revision}: refusing the path ${path}`, { repo, reason: 'hub' });
    const known = previous?.files[path];
    const onDisk = await stat(target).catch(() => null);
    if (known && known.oid !== '' && known.oid === oidOf(entry) && onDisk?.size === sizeOf(entry)) {
      result.kept.push(path);
    } else {
      // The files are about to change: until the new manifest is written, the directory claims no complete pull
      // (an interrupted re-pull must not pass for one, with old and new files mixed).
      if (!invalidated && previous) await rm(join(out, PULL_MANIFEST_FILE), { force: true });
      invalidated = true;
      await downloadTo(target, entry, await downloadRepoFile(repo, revision, path, connection, failure), {
        repo,
        revision,
      });
      result.downloaded.push(path);
    }
    manifest.files[path] = { oid: oidOf(entry), size: sizeOf(entry) };
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

/** Streams `blob` to `target` through a hash; checks size and hash, then renames into place. */
async function downloadTo(
  target: string,
  entry: ListFileEntry,
  blob: Blob,
  where: { repo: string; revision: string },
): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temp = `${target}.${randomBytes(6).toString('hex')}.partial`;
  const size = sizeOf(entry);
  // LFS files are listed by the sha256 of their content; the others by git's blob id (sha1 of a header + content).
  const hash = entry.lfs ? createHash('sha256') : createHash('sha1').update(`blob ${size}\0`);
  let received = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(blob.stream() as Parameters<typeof Readable.fromWeb>[0]),
      hashing,
      createWriteStream(temp),
    );
    const digest = hash.digest('hex');
    const fail = (what: string): never => {
      throw new HubError(
        `${where.repo}@${where.revision}: ${entry.path}: the download does not match the repository (${what}); try again`,
        { repo: where.repo, reason: 'hub' },
      );
    };
    if (received !== size) fail(`${received} bytes received, ${size} expected`);
    const listed = oidOf(entry);
    const checkable = entry.lfs !== undefined || /^[0-9a-f]{40}$/.test(listed);
    if (checkable && digest !== listed)
      fail(`${entry.lfs ? 'sha256' : 'git blob id'} ${digest}, listed ${listed}`);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
