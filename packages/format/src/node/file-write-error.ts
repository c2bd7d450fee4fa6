import { sep } from 'node:path';

/** What a file-system error code means, in the words a user reads (Node's own messages put the code first). */
const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a parent is not a directory',
  EISDIR: 'is a directory',
  EIO: 'i/o error',
  EXDEV: 'cannot rename across file systems',
};

/**
 * A file that could not be written. The message is one line naming the file and the reason
 * (`cannot write OUT/adapter_model.safetensors: no space left on device (ENOSPC)`) — Node's own errors for a
 * failed `write` name no path at all. `code` is the file-system error code; the original error is the `cause`.
 */
export class FileWriteError extends Error {
  override name = 'FileWriteError';
  /** The file (or directory) that was being written, as the caller named it. */
  readonly path: string;
  /** `ENOSPC`, `EACCES`, …; undefined when the failure had no code. */
  readonly code: string | undefined;
  /** The reason without the path (`no space left on device (ENOSPC)`). */
  readonly reason: string;
  constructor(path: string, reason: string, code: string | undefined, options?: { cause?: unknown }) {
    super(`cannot write ${path}: ${reason}`, options);
    this.path = path;
    this.reason = reason;
    this.code = code;
  }

  /**
   * This error with its path moved from the temporary directory `from` (where a directory is built before it is
   * renamed into place) to `to`, the directory the user asked for; an error outside `from` is returned as it is.
   */
  relocated(from: string, to: string): FileWriteError {
    if (this.path !== from && !this.path.startsWith(`${from}${sep}`)) return this;
    return new FileWriteError(`${to}${this.path.slice(from.length)}`, this.reason, this.code, {
      cause: this,
    });
  }

  /** `error` as a FileWriteError for `path`; one already naming a path passes through unchanged. */
  static from(error: unknown, path: string): FileWriteError {
    if (error instanceof FileWriteError) return error;
    const code = (error as NodeJS.ErrnoException | null)?.code;
    const known = code !== undefined ? REASONS[code] : undefined;
    const reason =
      known !== undefined
        ? `${known} (${code})`
        : error instanceof Error
          ? error.message.split('\n')[0]!
          : String(error);
    return new FileWriteError(path, reason, code, { cause: error });
  }
}
