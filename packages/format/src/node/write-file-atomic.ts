import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FileWriteError } from './file-write-error.js';
import { allowWrite } from './write-fault.js';

/** What a file is written from: bytes, text, or chunks (a stream of them, e.g. a download, is not held in memory). */
export type FileData = Uint8Array | string | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** A file written and flushed under a temporary name beside its target, not yet in place. */
export interface StagedFile {
  /** The target path. */
  readonly path: string;
  /** Renames the temporary file over {@link path}: readers see the old content or the new, never a mix. */
  commit(): Promise<void>;
  /** Removes the temporary file; the target stays as it was. */
  discard(): Promise<void>;
}

async function* chunksOf(data: FileData): AsyncIterable<Uint8Array> {
  if (typeof data === 'string') yield new TextEncoder().encode(data);
  else if (data instanceof Uint8Array) yield data;
  else yield* data;
}

/**
 * Writes `data` to a temporary file in `path`'s directory (a rename is only atomic within one file system) and
 * flushes it to disk; {@link StagedFile.commit} then puts it in place. A failed write removes the temporary file
 * and throws a {@link FileWriteError} naming `path`; an error thrown by an iterable `data` is rethrown as it is.
 */
export async function stageFile(path: string, data: FileData): Promise<StagedFile> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const discard = () => unlink(temp).catch(() => undefined); // may not exist (open failed)
  // A failure of the data's source (a download refused mid-way) is not a write failure: it passes unchanged.
  let sourceFailed = false;
  async function* source(): AsyncIterable<Uint8Array> {
    try {
      yield* chunksOf(data);
    } catch (error) {
      sourceFailed = true;
      throw error;
    }
  }
  try {
    const handle = await open(temp, 'wx');
    try {
      for await (const chunk of source()) {
        let done = 0;
        while (done < chunk.byteLength) {
          const n = allowWrite(path, chunk.byteLength - done);
          done += (await handle.write(chunk, done, n)).bytesWritten;
        }
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await discard();
    throw sourceFailed ? error : FileWriteError.from(error, path);
  }
  return {
    path,
    commit: async () => {
      try {
        await rename(temp, path);
      } catch (error) {
        await discard();
        throw FileWriteError.from(error, path);
      }
    },
    discard,
  };
}

/**
 * Writes several files so that a failure replaces none of them: every file is first written and flushed under a
 * temporary name (where a full disk or any other write error strikes), and only then are they renamed into place,
 * in the order given. On a failure the temporary files are removed and the targets are untouched.
 *
 * @throws {FileWriteError} naming the file that could not be written and why (`no space left on device`, …).
 */
export async function writeFilesAtomic(
  files: ReadonlyArray<{ path: string; data: FileData }>,
): Promise<void> {
  const staged: StagedFile[] = [];
  try {
    for (const f of files) staged.push(await stageFile(f.path, f.data));
  } catch (error) {
    await Promise.all(staged.map((s) => s.discard()));
    throw error;
  }
  for (const [i, s] of staged.entries()) {
    try {
      await s.commit();
    } catch (error) {
      await Promise.all(staged.slice(i + 1).map((t) => t.discard()));
      throw error;
    }
  }
}

/**
 * Writes a file so that readers see either the old content or the new, never a mix: the data go to a temporary
 * file in the same directory, are flushed to disk, and the temporary file is renamed over `path`. On any failure
 * the temporary file is removed and `path` is untouched.
 *
 * @throws {FileWriteError} naming `path` and what went wrong (`no space left on device (ENOSPC)`, …).
 */
export function writeFileAtomic(path: string, data: FileData): Promise<void> {
  return writeFilesAtomic([{ path, data }]);
}
