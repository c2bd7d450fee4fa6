// Shared by the Hub tests: a fake Hub per test file, scratch copies of the fixture adapter.
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { fixturePath, MOR_DIR } from '../helpers.js';
import { FakeHub } from './fake-hub.js';

export const TOKEN = 'hf_fakeWriteToken0123456789abcdefghij';
export const WRONG_TOKEN = 'hf_wrongToken9876543210zyxwvutsrqpo';

/** Starts a fake Hub accepting {@link TOKEN} for the tests of the calling file. */
export function useFakeHub(): FakeHub {
  const hub = new FakeHub([TOKEN]);
  beforeAll(async () => {
    await hub.start();
  });
  afterAll(async () => {
    await hub.stop();
    // Every call the client made must be one the fake knows: otherwise it tested a different protocol.
    expect(hub.unhandled).toEqual([]);
  });
  return hub;
}

export const MOR_FIXTURE = fixturePath(MOR_DIR);

/** A fresh temporary directory. */
export function scratchDir(prefix = 'mor-hub-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A scratch copy of the MoR fixture adapter, to add files to. */
export async function scratchAdapter(): Promise<string> {
  const dir = await scratchDir('mor-hub-adapter-');
  await cp(MOR_FIXTURE, dir, { recursive: true });
  return dir;
}

/** A repository name no other test uses. */
let counter = 0;
export function freshRepo(stem = 'adapter'): string {
  counter += 1;
  return `tester/${stem}-${counter}`;
}
