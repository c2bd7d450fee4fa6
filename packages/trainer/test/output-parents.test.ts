import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAdapter } from '@mor/format/node';
import { afterAll, describe, expect, it } from 'vitest';
import { initAdapterDir } from '../src/node/index.js';
import { writeDirAtomic } from '@mor/transformers/node';
import { fixture } from './helpers.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function scratch(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mor-parents-'));
  dirs.push(d);
  return d;
}

describe('output directories whose parents are missing', () => {
  it('initAdapterDir creates them (it failed with ENOENT … mkdtemp)', async () => {
    const out = join(await scratch(), 'a', 'b', 'c');
    await initAdapterDir({ model: fixture('tiny-llama'), out, rank: 2, seed: 1 });
    expect((await readdir(out)).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect((await loadAdapter(out)).kind).toBe('mor');
  });

  it('a failed build removes the parents it created, and only those', async () => {
    const root = await scratch();
    const out = join(root, 'x', 'y', 'z');
    await expect(
      writeDirAtomic(out, () => Promise.reject(new Error('fill failed on purpose'))),
    ).rejects.toThrow('fill failed on purpose');
    expect(await readdir(root)).toEqual([]);
  });
});
