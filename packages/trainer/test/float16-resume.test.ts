import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAdapter } from '@mor/format/node';
import { writeDtypeFile } from '@mor/model-builder';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, trainAdapter, type TrainAdapterOptions } from '../src/node/index.js';
import { fixture, scratch } from './helpers.js';

// Float16 models train with dynamic loss scaling; its state (scale, growth tracker) is part of a checkpoint, so a
// resumed run skips and scales exactly as the uninterrupted one and ends with the same adapter.
const EXAMPLES = fileURLToPath(new URL('../../../examples/data/', import.meta.url));
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function out(): Promise<string> {
  const d = await scratch();
  dirs.push(d);
  return d;
}

describe('trainAdapter on an fp16 model', () => {
  it('a run resumed from its step-2 checkpoint ends with exactly the uninterrupted run’s adapter (loss scale restored)', async () => {
    const model = await out();
    await mkdir(join(model, 'onnx'), { recursive: true });
    for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'])
      await copyFile(fixture(`tiny-llama/${f}`), join(model, f));
    await copyFile(fixture('tiny-llama/onnx/model.onnx'), join(model, 'onnx', 'model.onnx'));
    await writeDtypeFile(model, 'fp16');
    // 2^27: the first steps overflow float16 and are skipped, so the scale differs between checkpoint and start.
    const base: Omit<TrainAdapterOptions, 'out'> = {
      model,
      dtype: 'fp16',
      lossScale: 2 ** 27,
      data: join(EXAMPLES, 'multitask.jsonl'),
      targets: ['gate_proj', 'down_proj'],
      rank: 4,
      experts: 2,
      lr: 1e-2,
      batchSize: 4,
      seed: 11,
    };
    const [a, b] = [await out(), await out()];
    const logs: string[] = [];
    await trainAdapter({ ...base, maxSteps: 4, saveEvery: 2, out: a }, { onLog: (l) => logs.push(l) });
    expect(logs.some((l) => /float16 gradients overflowed at loss scale 134217728/.test(l))).toBe(true);
    const ckpt = await loadCheckpoint(join(a, 'checkpoint-2'));
    expect(ckpt.optimizer.lossScale).toBeDefined();
    expect(ckpt.optimizer.lossScale!.scale).toBeLessThan(2 ** 27);
    await trainAdapter({ ...base, maxSteps: 4, resume: join(a, 'checkpoint-2'), out: b });
    const [x, y] = [await loadAdapter(a), await loadAdapter(b)];
    for (const [module, layer] of x.layers)
      for (const [k, v] of Object.entries(layer))
        if (v instanceof Float32Array)
          expect((y.layers.get(module) as unknown as Record<string, unknown>)[k], `${module}.${k}`).toEqual(
            v,
          );
  });
});
