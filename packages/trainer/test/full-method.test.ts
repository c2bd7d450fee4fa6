import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateDataFile, trainAdapter } from '../src/node/index.js';
import { fixture, scratch } from './helpers.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/data/', import.meta.url));
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('trainAdapter --method full', () => {
  it('writes a model directory that scores as trained, and resumes to the same bytes', async () => {
    const [a, b] = [await scratch(), await scratch()];
    dirs.push(a, b);
    const base = {
      model: fixture('tiny-llama'),
      data: join(EXAMPLES, 'multitask.jsonl'),
      evalData: join(EXAMPLES, 'multitask-eval.jsonl'),
      method: 'full' as const,
      targets: ['down_proj'],
      lr: 1e-3,
      batchSize: 8,
      maxSteps: 4,
      seed: 1,
    };
    const r = await trainAdapter({ ...base, saveEvery: 2, out: a });
    expect(r.evalAfter!.loss).toBeLessThan(r.evalBefore!.loss);
    const files = await readdir(a);
    expect(files).toEqual(
      expect.arrayContaining(['config.json', 'tokenizer.json', 'onnx', 'training_summary.json']),
    );
    expect(files).not.toContain('model.safetensors'); // the PyTorch weights would be stale
    expect(await readdir(join(a, 'checkpoint-2'))).toEqual(
      expect.arrayContaining(['model_params.safetensors', 'optimizer.safetensors']),
    );
    // the written model, run through transformers.js inference, scores what the training graph measured
    const scored = await evaluateDataFile({ model: a, data: base.evalData });
    expect(scored.loss).toBeCloseTo(r.evalAfter!.loss, 4);
    await trainAdapter({ ...base, resume: join(a, 'checkpoint-2'), out: b });
    const [x, y] = await Promise.all([a, b].map((d) => readFile(join(d, 'onnx', 'model.onnx'))));
    expect(Buffer.compare(x!, y!)).toBe(0);
  });
});
