/**
 * Test-only seam: an injected write failure, so tests can prove that a full disk in the middle of a save leaves the
 * previous files in place (a really full disk cannot be arranged on a CI machine). Every byte written through
 * `stageFile` / `writeFileAtomic` / `writeFilesAtomic` asks {@link allowWrite} first; nothing else reads it.
 */

/** A failure {@link injectWriteFault} arranges. */
export interface WriteFault {
  /** The error code to fail with, as Node's file system reports it. @default "ENOSPC" */
  code?: 'ENOSPC' | 'EDQUOT' | 'EIO';
  /** Bytes that still land (counted over all matching writes from now on) before every further write fails. */
  afterBytes: number;
  /** Only writes to paths this accepts count and fail (default: every path). */
  match?: (path: string) => boolean;
}

const MESSAGES: Record<NonNullable<WriteFault['code']>, [number, string]> = {
  ENOSPC: [-28, 'no space left on device'],
  EDQUOT: [-122, 'disk quota exceeded'],
  EIO: [-5, 'i/o error'],
};

let active: (WriteFault & { left: number }) | null = null;

/**
 * **Test-only.** Makes writes through `@mor/format/node`'s atomic writer fail like a full disk: `afterBytes` more
 * bytes are written (the last write may be cut short), then every write throws an error with `code` (`ENOSPC`,
 * `errno`, `syscall: 'write'`, as Node's own). `null` clears it. Exported from `@mor/format/testing` only.
 */
export function injectWriteFault(fault: WriteFault | null): void {
  active = fault === null ? null : { ...fault, left: Math.max(0, fault.afterBytes) };
}

/**
 * How many of the `want` bytes about to be written to `path` may be written now (all of them unless a fault is
 * injected); throws the injected error once none may.
 */
export function allowWrite(path: string, want: number): number {
  if (active === null || (active.match !== undefined && !active.match(path))) return want;
  if (active.left > 0) {
    const n = Math.min(want, active.left);
    active.left -= n;
    return n;
  }
  const code = active.code ?? 'ENOSPC';
  const [errno, text] = MESSAGES[code];
  throw Object.assign(new Error(`${code}: ${text}, write`), { code, errno, syscall: 'write' });
}
