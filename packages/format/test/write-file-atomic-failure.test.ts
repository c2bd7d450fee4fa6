// Failures in the middle of an atomic write, injected into node:fs/promises (this file's mock only).
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { saveAdapter, writeFileAtomic, loadAdapter } from '../src/node/index.js';
import { MOR_DIR, fixturePath } from './helpers.js';

const inject = vi.hoisted(() => ({ failWrite: false, failRename: false }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof fs.open = async (...args) => {
    const handle = await fs.open(...args);
    if (!inject.failWrite) return handle;
    // Write part of the data for real, then fail like a full disk would.
    const failing = async (data: Uint8Array | string) => {
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      await handle.write(bytes.subarray(0, Math.min(8, bytes.length)));
      throw Object.assign(new Error('ENOSPC: no space left on device (injected)'), { code: 'ENOSPC' });
    };
    return new Proxy(handle, {
      get: (target, prop) => (prop === 'writeFile' ? failing : Reflect.get(target, prop, target)),
    });
  };
  const rename: typeof fs.rename = async (from, to) => {
    if (inject.failRename) throw Object.assign(new Error('EXDEV (injected)'), { code: 'EXDEV' });
    return fs.rename(from, to);
  };
  return { ...fs, open, rename, default: { ...fs, open, rename } };
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mor-atomic-'));
  inject.failWrite = false;
  inject.failRename = false;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic under failure', () => {
  it('a write failing mid-way leaves the old file intact and no temporary file', async () => {
    const path = join(dir, 'weights.bin');
    await writeFileAtomic(path, 'old content');
    inject.failWrite = true;
    await expect(writeFileAtomic(path, 'new content that never lands')).rejects.toThrow('ENOSPC');
    expect(await readFile(path, 'utf8')).toBe('old content');
    expect(await readdir(dir)).toEqual(['weights.bin']);
  });

  it('a failing rename leaves the old file intact and no temporary file', async () => {
    const path = join(dir, 'weights.bin');
    await writeFileAtomic(path, 'old content');
    inject.failRename = true;
    await expect(writeFileAtomic(path, 'new')).rejects.toThrow('EXDEV');
    expect(await readFile(path, 'utf8')).toBe('old content');
    expect(await readdir(dir)).toEqual(['weights.bin']);
  });

  it('saveAdapter failing mid-way keeps the previous adapter loadable', async () => {
    const adapter = await loadAdapter(fixturePath(MOR_DIR));
    await saveAdapter(dir, adapter);
    const before = await readFile(join(dir, 'adapter_model.safetensors'));
    inject.failWrite = true;
    await expect(saveAdapter(dir, adapter, { dtype: 'BF16' })).rejects.toThrow('ENOSPC');
    inject.failWrite = false;
    expect(await readFile(join(dir, 'adapter_model.safetensors'))).toEqual(before);
    expect((await readdir(dir)).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect((await loadAdapter(dir)).dtype).toBe('F32');
  });
});
