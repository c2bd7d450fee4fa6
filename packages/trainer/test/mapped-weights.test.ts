import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAdapter } from '@mor/format/node';
import type { Adapter } from '@mor/format';
import { DataLocation, decodeModel, encodeModel } from '@mor/onnx';
import { afterAll, describe, expect, it } from 'vitest';
import { openTrainingModel, trainAdapter, type TrainAdapterOptions } from '../src/node/index.js';
import { fixture, scratch } from './helpers.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const tmp = async () => {
  const d = await scratch();
  dirs.push(d);
  return d;
};

/** fixtures/tiny-llama with its weights moved into `onnx/model.onnx_data`, as real exports hold them. */
async function externalDataCopy(): Promise<string> {
  const src = fixture('tiny-llama');
  const dir = await tmp();
  await mkdir(join(dir, 'onnx'));
  for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'])
    await copyFile(join(src, f), join(dir, f));
  const model = await decodeModel(new Uint8Array(await readFile(join(src, 'onnx', 'model.onnx'))));
  const encoded = encodeModel(model, { externalDataThreshold: 1024 });
  expect(encoded.externalData.length).toBe(1);
  await writeFile(join(dir, 'onnx', 'model.onnx'), encoded.model);
  for (const file of encoded.externalData)
    await writeFile(join(dir, 'onnx', file.location), Buffer.concat(file.chunks));
  return dir;
}

function maxDiff(a: Adapter, b: Adapter): number {
  let max = 0;
  for (const [module, w] of a.layers)
    for (const [k, v] of Object.entries(w))
      if (v instanceof Float32Array) {
        const u = b.layers.get(module)![k as keyof typeof w] as Float32Array;
        v.forEach((x, i) => (max = Math.max(max, Math.abs(x - u[i]!))));
      }
  return max;
}

describe('trainAdapter on a model whose weights are in external data', () => {
  it('leaves the weights in their file for the session to map, and trains to the same adapter', async () => {
    const dir = await externalDataCopy();
    const mapped = await openTrainingModel(dir, undefined, undefined, { mapWeights: true });
    expect(mapped.externalDataDir).toBe(join(dir, 'onnx'));
    const external = mapped.graph.graph!.initializer.filter((t) => t.dataLocation === DataLocation.EXTERNAL);
    expect(external.length).toBeGreaterThan(10);
    expect(external.every((t) => t.rawData.length === 0)).toBe(true);
    // Without mapWeights (what `full` asks for) they are read.
    expect((await openTrainingModel(dir)).externalDataDir).toBeUndefined();

    const o = (model: string, out: string): TrainAdapterOptions => ({
      model,
      out,
      data: join(fixture('tiny-llama'), 'golden_data.jsonl'),
      targets: ['q_proj', 'v_proj', 'down_proj'],
      rank: 4,
      experts: 4,
      lr: 1e-2,
      batchSize: 2,
      maxSteps: 3,
      seed: 5,
    });
    const [inline, viaFile] = [await tmp(), await tmp()];
    const a = await trainAdapter(o(fixture('tiny-llama'), inline));
    const b = await trainAdapter(o(dir, viaFile));
    expect(b.steps).toBe(3);
    expect(b.trainLossFinal).toBe(a.trainLossFinal);
    expect(maxDiff(await loadAdapter(inline), await loadAdapter(viaFile))).toBe(0);
  });

  it('refuses an external data file that is missing, naming it', async () => {
    const dir = await externalDataCopy();
    await rm(join(dir, 'onnx', 'model.onnx_data'));
    await expect(openTrainingModel(dir, undefined, undefined, { mapWeights: true })).rejects.toThrow(
      /model\.onnx: its external data file model\.onnx_data is missing/,
    );
  });
});

describe('trainAdapter gradientCheckpointing', () => {
  it('trains to the same adapter as without', async () => {
    const common: Omit<TrainAdapterOptions, 'out'> = {
      model: fixture('tiny-llama'),
      data: join(fixture('tiny-llama'), 'golden_data.jsonl'),
      method: 'lora',
      // SGD: the update is linear in the gradient. AdamW divides by √v, so on coordinates whose gradient is ~0 it
      // turns float rounding (onnxruntime fuses the recomputed forward its own way) into 1e-5 differences.
      optimizer: 'sgd',
      targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
      rank: 4,
      lr: 1e-2,
      batchSize: 2,
      maxSteps: 3,
      seed: 5,
    };
    const [plain, checkpointed] = [await tmp(), await tmp()];
    const a = await trainAdapter({ ...common, out: plain });
    const b = await trainAdapter({ ...common, out: checkpointed, gradientCheckpointing: true });
    expect(Math.abs(b.trainLossFinal - a.trainLossFinal)).toBeLessThan(1e-6);
    expect(maxDiff(await loadAdapter(plain), await loadAdapter(checkpointed))).toBeLessThan(1e-6);
  });
});
