import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAdapter } from '@mor/format/node';
import type { Adapter } from '@mor/format';
import { buildLlama, writeModelDir } from '@mor/model-builder';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainAdapter, type TrainAdapterOptions } from '../src/node/index.js';
import { fixture, scratch } from './helpers.js';

// The dtype is part of a checkpoint: `--resume` alone trains on through the file the checkpoint was trained on
// (here onnx/model_q4.onnx beside an fp32 onnx/model.onnx of the same weights), and another dtype is refused.
let root: string;
let model: string;
beforeAll(async () => {
  root = await scratch('mor-resume-dtype-');
  model = await writeModelDir(join(root, 'model'), buildLlama({ seed: 6 }));
  await writeFile(
    join(model, 'onnx', 'model_q4.onnx'),
    buildLlama({ seed: 6, quantize: 'matmulnbits' }).onnx,
  );
});
afterAll(() => rm(root, { recursive: true, force: true }));

const run = (out: string, extra: Partial<TrainAdapterOptions> = {}) =>
  trainAdapter({
    model,
    data: fixture('tiny-llama/golden_data.jsonl'),
    targets: ['q_proj', 'down_proj'],
    rank: 2,
    experts: 2,
    lr: 1e-2,
    batchSize: 1,
    maxSteps: 4,
    seed: 5,
    out: join(root, out),
    ...extra,
  });

const tensors = (a: Adapter) =>
  [...a.layers].flatMap(([m, l]) =>
    Object.entries(l).flatMap(([k, v]) => (v instanceof Float32Array ? [[`${m}.${k}`, v] as const] : [])),
  );
const maxDiff = (a: Adapter, b: Adapter) => {
  const other = new Map(tensors(b));
  return Math.max(
    ...tensors(a).map(([k, v]) => Math.max(...v.map((x, i) => Math.abs(x - other.get(k)![i]!)))),
  );
};

describe('resume and dtype', () => {
  it('a q4 checkpoint records its dtype; --resume without --dtype continues on q4 to the uninterrupted result', async () => {
    const straight = await run('q4', { dtype: 'q4', saveEvery: 2 });
    const ckpt = join(root, 'q4', 'checkpoint-2');
    const state = JSON.parse(await readFile(join(ckpt, 'trainer_state.json'), 'utf8'));
    expect(state.settings.dtype).toBe('q4');
    const resumed = await run('q4-resumed', { resume: ckpt });
    expect(resumed.trainLossFinal).toBe(straight.trainLossFinal);
    const [a, b] = [await loadAdapter(join(root, 'q4')), await loadAdapter(join(root, 'q4-resumed'))];
    expect(maxDiff(a, b)).toBe(0);
    // on the fp32 file the same run ends elsewhere: the resume did not fall back to onnx/model.onnx
    await run('fp32', { dtype: 'fp32' });
    expect(maxDiff(a, await loadAdapter(join(root, 'fp32')))).toBeGreaterThan(1e-6);
  });

  it('a --dtype other than the checkpoint’s is refused, naming both files', async () => {
    const ckpt = join(root, 'q4', 'checkpoint-2');
    await expect(run('mismatch', { resume: ckpt, dtype: 'fp32' })).rejects.toThrow(
      `cannot resume from ${ckpt}: it was trained through dtype q4 (onnx/model_q4.onnx), not fp32 (onnx/model.onnx); drop --dtype to resume on q4`,
    );
  });
});
