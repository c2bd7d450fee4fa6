// Failures in the middle of an atomic write: a full disk through the test-only seam (`@mor/format/testing`),
// a failing rename through this file's mock of node:fs/promises.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  FileWriteError,
  saveAdapter,
  writeFileAtomic,
  writeFilesAtomic,
  loadAdapter,
} from '../src/node/index.js';
import { injectWriteFault } from '../src/node/testing.js';
import { MOR_DIR, fixturePath } from './helpers.js';

const inject = vi.hoisted(() => ({ failRename: false }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const rename: typeof fs.rename = async (from, to) => {
    if (inject.failRename) throw Object.assign(new Error('EXDEV (injected)'), { code: 'EXDEV' });
    return fs.rename(from, to);
  };
  return { ...fs, rename, default: { ...fs, rename } };
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mor-atomic-'));
  inject.failRename = false;
});
afterEach(async () => {
  injectWriteFault(null);
  await rm(dir, { recursive: true, force: true });
});

/** The rejection of `p`, which must reject. */
async function failure(p: Promise<unknown>): Promise<FileWriteError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FileWriteError);
  return e as FileWriteError;
}

describe('writeFileAtomic under failure', () => {
  it('a full disk mid-write leaves the old file intact, no temporary file, and names the file', async () => {
    const path = join(dir, 'weights.bin');
    await writeFileAtomic(path, 'old content');
    injectWriteFault({ afterBytes: 5 }); // 5 bytes land in the temporary file, then ENOSPC
    const e = await failure(writeFileAtomic(path, 'new content that never lands'));
    expect(e.message).toBe(`cannot write ${path}: no space left on device (ENOSPC)`);
    expect(e.code).toBe('ENOSPC');
    expect(await readFile(path, 'utf8')).toBe('old content');
    expect(await readdir(dir)).toEqual(['weights.bin']);
  });

  it('a failing rename leaves the old file intact and no temporary file', async () => {
    const path = join(dir, 'weights.bin');
    await writeFileAtomic(path, 'old content');
    inject.failRename = true;
    const e = await failure(writeFileAtomic(path, 'new'));
    expect(e.message).toBe(`cannot write ${path}: cannot rename across file systems (EXDEV)`);
    expect(await readFile(path, 'utf8')).toBe('old content');
    expect(await readdir(dir)).toEqual(['weights.bin']);
  });

  it('writeFilesAtomic: a full disk on the last file replaces none of them', async () => {
    const [a, b] = [join(dir, 'a.bin'), join(dir, 'b.bin')];
    await writeFilesAtomic([
      { path: a, data: 'old a' },
      { path: b, data: 'old b' },
    ]);
    injectWriteFault({ afterBytes: 0, match: (p) => p === b });
    const e = await failure(
      writeFilesAtomic([
        { path: a, data: 'new a' },
        { path: b, data: [new TextEncoder().encode('new '), new TextEncoder().encode('b')] },
      ]),
    );
    expect(e.path).toBe(b);
    expect([await readFile(a, 'utf8'), await readFile(b, 'utf8')]).toEqual(['old a', 'old b']);
    expect((await readdir(dir)).sort()).toEqual(['a.bin', 'b.bin']);
  });
});

describe('saveAdapter under a full disk', () => {
  const files = ['adapter_config.json', 'adapter_model.safetensors'];
  const snapshot = () => Promise.all(files.map((f) => readFile(join(dir, f))));

  it.each([
    ['in the weights', (p: string) => p.endsWith('.safetensors'), 100],
    // The weights are complete by then: a writer renaming each file as soon as it is written would already have
    // replaced them, leaving new weights beside the old config.
    ['in the config, after the weights are written', (p: string) => p.endsWith('.json'), 10],
  ])('failing %s keeps the previous adapter byte for byte', async (_, match, afterBytes) => {
    const adapter = await loadAdapter(fixturePath(MOR_DIR));
    await saveAdapter(dir, adapter);
    const before = await snapshot();
    injectWriteFault({ afterBytes, match });
    const e = await failure(saveAdapter(dir, adapter, { dtype: 'BF16' }));
    expect(e.message).toMatch(
      /^cannot write .*adapter_(model\.safetensors|config\.json): no space left on device/,
    );
    injectWriteFault(null);
    expect(await snapshot()).toEqual(before);
    expect((await readdir(dir)).sort()).toEqual(files);
    expect((await loadAdapter(dir)).dtype).toBe('F32');
  });

  it('a file saved alongside lands with the adapter or not at all', async () => {
    const adapter = await loadAdapter(fixturePath(MOR_DIR));
    await saveAdapter(dir, adapter, { alongside: { 'notes.json': '{"v":1}' } });
    const before = await Promise.all([...files, 'notes.json'].map((f) => readFile(join(dir, f))));
    injectWriteFault({ afterBytes: 2, match: (p) => p.endsWith('notes.json') });
    await failure(saveAdapter(dir, adapter, { dtype: 'BF16', alongside: { 'notes.json': '{"v":2}' } }));
    injectWriteFault(null);
    expect(await Promise.all([...files, 'notes.json'].map((f) => readFile(join(dir, f))))).toEqual(before);
    await saveAdapter(dir, adapter, { alongside: { 'notes.json': '{"v":2}' } });
    expect(await readFile(join(dir, 'notes.json'), 'utf8')).toBe('{"v":2}');
  });
});
