import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunCache, fingerprint } from '../src/index.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'run-cache-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the study run cache', () => {
  it('runs once per fingerprint, and a resumed study (a new instance) takes the record', async () => {
    const dir = tempDir();
    let calls = 0;
    const run = () => ({ accuracy: 0.25, call: ++calls });
    const a = new RunCache(dir, { model: 'm1' });
    expect(await a.get('mor-s0-test', { lr: 3e-3, seed: 0 }, run)).toEqual({ accuracy: 0.25, call: 1 });
    expect(await a.get('mor-s0-test', { seed: 0, lr: 3e-3 }, run)).toEqual({ accuracy: 0.25, call: 1 });
    const b = new RunCache(dir, { model: 'm1' });
    expect(await b.get('mor-s0-test', { lr: 3e-3, seed: 0 }, run)).toEqual({ accuracy: 0.25, call: 1 });
    expect([calls, a.hits, a.misses, b.hits, b.size]).toEqual([1, 1, 1, 1, 1]);
    expect(readdirSync(dir)).toEqual(['mor-s0-test.json']); // no temporary file left behind
  });

  it('reruns when the key or a shared input (the base model, the data) changed', async () => {
    const dir = tempDir();
    let calls = 0;
    const run = () => ++calls;
    await new RunCache(dir, { model: 'm1' }).get('lora-s0-test', { lr: 1e-3 }, run);
    expect(await new RunCache(dir, { model: 'm1' }).get('lora-s0-test', { lr: 3e-3 }, run)).toBe(2);
    expect(await new RunCache(dir, { model: 'm2' }).get('lora-s0-test', { lr: 3e-3 }, run)).toBe(3);
    const rec = JSON.parse(readFileSync(join(dir, 'lora-s0-test.json'), 'utf8'));
    expect(rec.fingerprint).toBe(fingerprint({ key: { lr: 3e-3 }, inputs: { model: 'm2' } }));
    expect(rec.result).toBe(3);
  });

  it('a failed run records nothing', async () => {
    const dir = tempDir();
    const cache = new RunCache(dir, {});
    await expect(
      cache.get('full-s1-test', {}, () => {
        throw new Error('mor train failed');
      }),
    ).rejects.toThrow('mor train failed');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('names a damaged record file instead of overwriting it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'mor-lr0.001-dev.json'), '{"fingerprint": ');
    await expect(new RunCache(dir, {}).get('mor-lr0.001-dev', {}, () => 1)).rejects.toThrow(
      /mor-lr0\.001-dev\.json: not a run record .*delete it/,
    );
  });

  it('fingerprints ignore key order but not values', () => {
    expect(fingerprint({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(
      fingerprint({ b: { d: 'x', c: [1, 2] }, a: 1 }),
    );
    expect(fingerprint({ a: 1, b: { c: [2, 1] } })).not.toBe(fingerprint({ a: 1, b: { c: [1, 2] } }));
  });
});
