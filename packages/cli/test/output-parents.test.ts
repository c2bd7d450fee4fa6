import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, runCli } from './run-cli.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function scratch(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mor-cli-parents-'));
  dirs.push(d);
  return d;
}

describe('--out whose parent folders are missing', () => {
  it('mor init, merge and export create them (init failed with ENOENT … mkdtemp)', async () => {
    const root = await scratch();
    const model = fixture('tiny-llama');
    const init = await runCli(['init', '--model', model, '--out', join(root, 'a/b/c'), '--rank', '2']);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect((await readdir(join(root, 'a/b/c'))).sort()).toEqual([
      'adapter_config.json',
      'adapter_model.safetensors',
    ]);
    const lora = fixture('tiny-llama/peft-lora');
    const merge = await runCli(['merge', '--model', model, '--adapter', lora, '--out', join(root, 'm/n')]);
    expect(merge.code).toBe(0);
    expect(await readdir(join(root, 'm/n'))).toContain('config.json');
    const adapter = fixture('tiny-llama/mor-adapter');
    const args = ['--to', 'peft-lora', '--gate', 'uniform', '--out', join(root, 'e/f')];
    const exported = await runCli(['export', '--adapter', adapter, ...args]);
    expect(exported.code).toBe(0);
    expect(await readdir(join(root, 'e/f'))).toContain('adapter_model.safetensors');
  });

  it('mor forward creates the folder of its --out file', async () => {
    const root = await scratch();
    const ids = join(root, 'ids.json');
    await writeFile(ids, '[[1, 2, 3]]');
    const out = join(root, 'x', 'y', 'logits.json');
    const r = await runCli(['forward', '--model', fixture('tiny-llama'), '--input-ids', ids, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await readdir(join(root, 'x', 'y'))).toEqual(['logits.json']);
  });
});
