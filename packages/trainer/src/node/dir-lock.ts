import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MorTransformersError } from '@mor/transformers';

/** What a lock file holds: who took it, so a refusal can name them and a dead holder's lock can be taken over. */
interface LockOwner {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
  /** Tells this holder's lock from a later one of the same PID. */
  nonce: string;
}

/** Another live process holds the lock of a directory. */
export class DirLockedError extends MorTransformersError {
  override name = 'DirLockedError';
  constructor(
    readonly lockFile: string,
    readonly pid: number | null,
    readonly host: string | null,
    what: string,
  ) {
    const who =
      pid === null
        ? 'a process that left no readable owner in it'
        : `PID ${pid}${host !== null && host !== hostname() ? ` on ${host}` : ''}`;
    super(
      `${lockFile} is held by ${who}: another ${what} is writing to this directory (if that run is gone, remove the lock file)`,
    );
  }
}

/** A lock taken by {@link lockDir}. */
export interface DirLock {
  /** The lock file. */
  readonly path: string;
  /** Removes the lock file (only if it is still this holder's); idempotent. */
  release(): Promise<void>;
}

/** Options of {@link lockDir}. */
export interface LockDirOptions {
  /** The lock file's name inside the directory. */
  file: string;
  /** What holds it, for the refusal: "mor train run". */
  what: string;
  /** Told when a dead holder's lock is taken over. */
  onNote?: (line: string) => void;
}

const held = new Map<string, string>(); // lock path → our content, for the exit and signal handlers
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function releaseHeldSync(): void {
  for (const [path, content] of held) {
    try {
      if (readFileSync(path, 'utf8') === content) unlinkSync(path);
    } catch {
      // already gone
    }
  }
  held.clear();
}

/**
 * On a signal that would end the process, the `finally` that releases a lock never runs: remove the held locks
 * first, then let the signal do what it would have done (only when nobody else listens for it; an application
 * with its own handler decides itself, and its exit still runs the `exit` hook).
 */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  releaseHeldSync();
  uninstall();
  process.kill(process.pid, signal);
}
const handlers = new Map(SIGNALS.map((s) => [s, () => onSignal(s)]));

function install(): void {
  if (held.size > 0) return;
  process.on('exit', releaseHeldSync);
  for (const [s, h] of handlers) process.on(s, h);
}
function uninstall(): void {
  process.off('exit', releaseHeldSync);
  for (const [s, h] of handlers) process.off(s, h);
}

function parseOwner(text: string): LockOwner | null {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    return Number.isInteger(o.pid) && typeof o.host === 'string' ? (o as LockOwner) : null;
  } catch {
    return null;
  }
}

/** Whether the lock's holder may still be running (a lock from another machine cannot be checked: yes). */
function alive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, belongs to someone else
  }
}

/**
 * Takes the lock file `dir/file`, which must not exist: it appears complete in one step (written beside it, then
 * hard-linked into place, which fails if the name exists — O_EXCL semantics that also hold on NFS), holding
 * this process's PID and host. A lock whose holder is no longer running (killed with SIGKILL, a crash) is taken
 * over, with a note. The lock is removed by {@link DirLock.release}, and also when the process exits or is ended
 * by SIGINT, SIGTERM or SIGHUP while holding it.
 *
 * @throws {DirLockedError} naming the lock file and the PID holding it when that process is alive.
 */
export async function lockDir(dir: string, options: LockDirOptions): Promise<DirLock> {
  const path = join(dir, options.file);
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    nonce: randomBytes(8).toString('hex'),
  };
  const content = `${JSON.stringify(owner)}\n`;
  const temp = `${path}.${owner.nonce}.tmp`;
  await writeFile(temp, content, { flag: 'wx' });
  try {
    let holder: LockOwner | null = null;
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const text = await readFile(path, 'utf8').catch(() => null);
      if (text !== null) holder = parseOwner(text);
      // Several rounds only when other processes take and drop the lock around us: then it is theirs.
      if (attempt >= 3 || (text !== null && (holder === null || alive(holder))))
        throw new DirLockedError(path, holder?.pid ?? null, holder?.host ?? null, options.what);
      if (text !== null && holder !== null && (await takeOver(path, text, owner.nonce)))
        options.onNote?.(
          `took over ${path}: its holder, PID ${holder.pid} (since ${holder.since}), is no longer running`,
        );
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  install();
  held.set(path, content);
  return {
    path,
    release: async () => {
      if (!held.has(path)) return;
      held.delete(path);
      if (held.size === 0) uninstall();
      if ((await readFile(path, 'utf8').catch(() => null)) === content) await unlink(path);
    },
  };
}

/**
 * Removes the stale lock `path` whose content was `stale`, unless another process replaced it meanwhile (two runs
 * taking over the same dead holder's lock at once): the lock is moved aside first, and put back when what was
 * moved is not the stale one.
 */
async function takeOver(path: string, stale: string, nonce: string): Promise<boolean> {
  const aside = `${path}.${nonce}.stale`;
  try {
    await rename(path, aside);
  } catch {
    return false; // gone meanwhile: try again
  }
  if ((await readFile(aside, 'utf8')) === stale) {
    await unlink(aside);
    return true;
  }
  await link(aside, path).catch(() => undefined); // someone's live lock: back where it was
  await unlink(aside);
  return false;
}
