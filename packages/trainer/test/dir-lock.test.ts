import { spawnSync } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DirLockedError, lockDir } from '../src/node/index.js';
import { scratch } from './helpers.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function dir(): Promise<string> {
  const d = await scratch('mor-lock-');
  dirs.push(d);
  return d;
}
const options = { file: '.test.lock', what: 'test run' };

/** The PID of a process that has exited (not reused this soon). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  expect(r.status).toBe(0);
  return r.pid!;
}

async function refusal(p: Promise<unknown>): Promise<DirLockedError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DirLockedError);
  return e as DirLockedError;
}

describe('lockDir', () => {
  it('holds the lock with this PID, refuses a second holder naming the file and the PID, and releases', async () => {
    const d = await dir();
    const lock = await lockDir(d, options);
    expect(lock.path).toBe(join(d, '.test.lock'));
    expect(JSON.parse(await readFile(lock.path, 'utf8'))).toMatchObject({
      pid: process.pid,
      host: hostname(),
    });
    const e = await refusal(lockDir(d, options));
    expect(e.message).toBe(
      `${lock.path} is held by PID ${process.pid}: another test run is writing to this directory (if that run is gone, remove the lock file)`,
    );
    expect([e.lockFile, e.pid]).toEqual([lock.path, process.pid]);
    expect(await readdir(d)).toEqual(['.test.lock']); // the refused attempt left nothing
    await lock.release();
    await lock.release();
    expect(await readdir(d)).toEqual([]);
    await (await lockDir(d, options)).release(); // free again
  });

  it('takes over the lock of a process that is no longer running, with a note', async () => {
    const d = await dir();
    const pid = deadPid();
    await writeFile(
      join(d, '.test.lock'),
      JSON.stringify({ pid, host: hostname(), since: '2026-01-01T00:00:00.000Z', nonce: 'x' }),
    );
    const notes: string[] = [];
    const lock = await lockDir(d, { ...options, onNote: (n) => notes.push(n) });
    expect(notes).toEqual([
      `took over ${lock.path}: its holder, PID ${pid} (since 2026-01-01T00:00:00.000Z), is no longer running`,
    ]);
    expect(JSON.parse(await readFile(lock.path, 'utf8')).pid).toBe(process.pid);
    await lock.release();
    expect(await readdir(d)).toEqual([]);
  });

  it('refuses a lock it cannot check: held on another host, or without a readable owner', async () => {
    const d = await dir();
    const path = join(d, '.test.lock');
    await writeFile(
      path,
      JSON.stringify({ pid: deadPid(), host: 'elsewhere.example', since: '', nonce: 'x' }),
    );
    expect((await refusal(lockDir(d, options))).message).toMatch(
      new RegExp(`^${path} is held by PID \\d+ on elsewhere\\.example: another test run`),
    );
    await writeFile(path, 'garbage');
    expect((await refusal(lockDir(d, options))).message).toMatch(
      /is held by a process that left no readable owner in it: another test run/,
    );
    expect(await readFile(path, 'utf8')).toBe('garbage'); // never removed by a refused run
  });

  it('release leaves a lock that is no longer its own', async () => {
    const d = await dir();
    const lock = await lockDir(d, options);
    const theirs = JSON.stringify({ pid: process.pid, host: hostname(), since: '', nonce: 'theirs' });
    await writeFile(lock.path, theirs);
    await lock.release();
    expect(await readFile(lock.path, 'utf8')).toBe(theirs);
  });
});
