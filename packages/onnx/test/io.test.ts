import { equals } from '@bufbuild/protobuf';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DataLocation,
  decodeModel,
  encodeModel,
  encodeModelBytes,
  OnnxIoError,
  tensorToFloat32,
} from '../src/index.js';
import { readModelFile, writeModelFile } from '../src/node/index.js';
import { fixture, fixtureBytes, golden, int64, maxAbsDiff, type GoldenTensor } from './helpers/fixtures.js';

const g = golden<{ input_ids: number[][]; attention_mask: number[][]; logits_base: GoldenTensor }>(
  'tiny-llama/golden.json',
);
const feeds = () => ({ input_ids: int64(g.input_ids), attention_mask: int64(g.attention_mask) });
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('encode/decode', () => {
  it('round trip is semantically exact and byte-identical', async () => {
    const bytes = fixtureBytes('tiny-llama-kv/onnx/model.onnx');
    const model = await decodeModel(bytes);
    const once = encodeModelBytes(model);
    const again = await decodeModel(once);
    expect(equals(ModelProtoSchema, model, again)).toBe(true);
    expect(Buffer.compare(encodeModelBytes(again), once)).toBe(0);
    // For these TorchScript exports even the first re-encoding is byte-identical to the file (in general only
    // semantic equality is promised: another writer may order fields or pack repeated fields differently).
    expect(Buffer.compare(once, bytes)).toBe(0);
  });

  it('keeps raw_data as views into the input bytes', async () => {
    const bytes = fixtureBytes('tiny-llama/onnx/model.onnx');
    const model = await decodeModel(bytes);
    const big = model.graph!.initializer.find((t) => t.rawData.byteLength > 10_000)!;
    expect(big.rawData.buffer).toBe(bytes.buffer);
  });

  it('refuses bytes that are not a model', async () => {
    await expect(decodeModel(new Uint8Array([0xff, 0xff, 0xff]))).rejects.toBeInstanceOf(OnnxIoError);
  });
});

describe('external data', () => {
  it('splits into several files and loads them back', async () => {
    const model = await decodeModel(fixtureBytes('tiny-llama/onnx/model.onnx'));
    const enc = encodeModel(model, { externalDataThreshold: 1024, maxExternalFileBytes: 200_000 });
    expect(enc.externalData.map((f) => f.location)).toEqual([
      'model.onnx_data',
      'model.onnx_data_1',
      'model.onnx_data_2',
    ]);
    expect(enc.model.byteLength).toBeLessThan(100_000);
    // The model object is unchanged by encoding.
    expect(model.graph!.initializer.every((t) => t.dataLocation !== DataLocation.EXTERNAL)).toBe(true);
    const files = new Map(enc.externalData.map((f) => [f.location, new Uint8Array(Buffer.concat(f.chunks))]));
    const lazy = await decodeModel(enc.model);
    const external = lazy.graph!.initializer.find((t) => t.dataLocation === DataLocation.EXTERNAL)!;
    expect(() => tensorToFloat32(external)).toThrow(/external/);
    const back = await decodeModel(enc.model, { externalData: async (loc) => files.get(loc)! });
    expect(equals(ModelProtoSchema, back, model)).toBe(true);
    await expect(decodeModel(enc.model, { externalData: () => new Uint8Array(10) })).rejects.toThrow(
      /runs past the end/,
    );
  });

  it('writeModelFile/readModelFile: onnxruntime runs the written model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mor-onnx-'));
    dirs.push(dir);
    const model = await readModelFile(fixture('tiny-llama/onnx/model.onnx').pathname);
    const path = join(dir, 'model.onnx');
    const written = await writeModelFile(path, model, { externalDataThreshold: 1024 });
    expect(written).toEqual([join(dir, 'model.onnx_data'), path]);
    expect(readdirSync(dir).sort()).toEqual(['model.onnx', 'model.onnx_data']);
    expect(statSync(path).size).toBeLessThan(100_000);
    const session = await ort.InferenceSession.create(path);
    const out = await session.run(feeds());
    await session.release();
    expect(maxAbsDiff(out['logits']!.data as Float32Array, g.logits_base.data)).toBeLessThan(1e-4);
    const back = await readModelFile(path);
    expect(equals(ModelProtoSchema, back, model)).toBe(true);
  });

  it('refuses an external location outside the model folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mor-onnx-'));
    dirs.push(dir);
    const model = await decodeModel(fixtureBytes('tiny-llama/onnx/model.onnx'));
    expect(() =>
      encodeModel(model, { externalDataThreshold: 1024, externalDataFile: '../evil.bin' }),
    ).toThrow(/plain file name/);
    const lazy = await decodeModel(encodeModel(model, { externalDataThreshold: 1024 }).model);
    for (const t of lazy.graph!.initializer)
      for (const e of t.externalData) if (e.key === 'location') e.value = '../evil.bin';
    writeFileSync(join(dir, 'bad.onnx'), encodeModelBytes(lazy));
    await expect(readModelFile(join(dir, 'bad.onnx'))).rejects.toThrow(/leaves the model folder/);
  });
});
