import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AdapterFormatError,
  adapterParameterCount,
  parseAdapter,
  serializeAdapter,
  type MorAdapter,
} from '../src/index.js';
import { loadAdapter, saveAdapter, writeFileAtomic } from '../src/node/index.js';
import { LORA_DIR, MOR_DIR, fixturePath, fixtureWeights } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mor-format-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadAdapter', () => {
  it('loads the MoR fixture: 6 modules, 9,312 parameters', async () => {
    const adapter = await loadAdapter(fixturePath(MOR_DIR));
    expect(adapter.kind).toBe('mor');
    expect(adapter.layers.size).toBe(6);
    expect(adapterParameterCount(adapter)).toBe(9312);
  });

  it('loads the PEFT LoRA fixture: 4 modules, 1,792 parameters', async () => {
    const adapter = await loadAdapter(fixturePath(LORA_DIR));
    expect(adapter.kind).toBe('lora');
    expect(adapter.layers.size).toBe(4);
    expect(adapterParameterCount(adapter)).toBe(1792);
  });

  it('names the missing file and the directory in errors', async () => {
    await writeFile(join(dir, 'adapter_config.json'), '{}');
    const error = await loadAdapter(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdapterFormatError);
    expect((error as Error).message).toBe(
      `${join(dir, 'adapter_model.safetensors')}: not found (an adapter directory needs adapter_config.json and adapter_model.safetensors)`,
    );
    await writeFile(join(dir, 'adapter_model.safetensors'), fixtureWeights(MOR_DIR));
    await expect(loadAdapter(dir)).rejects.toThrow(
      `${join(dir, 'adapter_config.json')}: unknown peft_type (missing)`,
    );
  });
});

describe('saveAdapter', () => {
  it('creates the directory and writes files loadAdapter reads back identically', async () => {
    const adapter = await loadAdapter(fixturePath(MOR_DIR));
    const target = join(dir, 'nested', 'out');
    await saveAdapter(target, adapter);
    expect((await readdir(target)).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect(new Uint8Array(await readFile(join(target, 'adapter_model.safetensors')))).toEqual(
      fixtureWeights(MOR_DIR),
    );
    const back = (await loadAdapter(target)) as MorAdapter;
    expect(back.config).toEqual((adapter as MorAdapter).config);
    expect(back.layers).toEqual(adapter.layers);
  });

  it('replaces existing files and leaves no temporary file behind', async () => {
    const adapter = (await loadAdapter(fixturePath(MOR_DIR))) as MorAdapter;
    await saveAdapter(dir, adapter);
    await saveAdapter(dir, { ...adapter, baseModel: 'other-model' }, { dtype: 'F16' });
    expect((await readdir(dir)).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const back = (await loadAdapter(dir)) as MorAdapter;
    expect(back.baseModel).toBe('other-model');
    expect(back.dtype).toBe('F16');
  });

  it('writes nothing when the adapter cannot be serialized', async () => {
    const adapter = (await loadAdapter(fixturePath(MOR_DIR))) as MorAdapter;
    await saveAdapter(dir, adapter);
    const before = await readFile(join(dir, 'adapter_model.safetensors'));
    const broken = new Map(adapter.layers);
    broken.set('model.layers.0.mlp.up_proj', {
      ...broken.get('model.layers.0.mlp.up_proj')!,
      B: new Float32Array(512).fill(Infinity),
    });
    await expect(saveAdapter(dir, { ...adapter, layers: broken })).rejects.toThrow(
      'non-finite value Infinity',
    );
    expect(await readFile(join(dir, 'adapter_model.safetensors'))).toEqual(before);
    expect((await readdir(dir)).length).toBe(2);
  });
});

describe('writeFileAtomic', () => {
  it('writes strings and bytes, replacing an existing file', async () => {
    const path = join(dir, 'f.txt');
    await writeFileAtomic(path, 'old');
    await writeFileAtomic(path, new TextEncoder().encode('new'));
    expect(await readFile(path, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['f.txt']);
  });

  it('fails without a trace when the directory does not exist', async () => {
    await expect(writeFileAtomic(join(dir, 'missing', 'f.txt'), 'x')).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('keeps a parsed adapter usable after saving (no aliasing of file bytes)', async () => {
    const adapter = parseAdapter(
      await readFile(fixturePath(`${MOR_DIR}/adapter_config.json`), 'utf8'),
      fixtureWeights(MOR_DIR),
    );
    await saveAdapter(dir, adapter);
    expect(serializeAdapter(adapter).safetensors).toEqual(fixtureWeights(MOR_DIR));
  });
});
