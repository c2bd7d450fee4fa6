import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAdapter } from '@mor/format/node';
import { buildLlama, writeModelDir } from '@mor/model-builder';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { int8Twin, q4Twin } from '@mor/model-builder';
import { fixture, ONE_SGD_STEP, runCli } from './run-cli.js';

// `mor train --dtype`: the file transformers.js loads for the dtype is the graph trained through. A q4 model dir
// (onnx/model_q4.onnx, 4-bit MatMulNBits base) trains like its fp32 twin whose weights are the dequantized ones.
const DATA = fixture('tiny-llama/golden_data.jsonl');
let root: string;
let quantized: string;
let twin: string;
let twin8: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mor-train-dtype-'));
  const q4 = buildLlama({ seed: 6, quantize: 'matmulnbits' });
  quantized = await writeModelDir(join(root, 'quantized'), q4);
  await rename(join(quantized, 'onnx', 'model.onnx'), join(quantized, 'onnx', 'model_q4.onnx'));
  const q8 = buildLlama({ seed: 6, quantize: 'dynamic-int8' });
  await writeFile(join(quantized, 'onnx', 'model_quantized.onnx'), q8.onnx);
  twin = await writeModelDir(join(root, 'twin'), { ...q4, onnx: await q4Twin(q4.onnx) });
  twin8 = await writeModelDir(join(root, 'twin8'), { ...q8, onnx: await int8Twin(q8.onnx) });
});
afterAll(() => rm(root, { recursive: true, force: true }));

const train = (model: string, out: string, ...extra: string[]) =>
  runCli(['train', '--model', model, '--data', DATA, ...ONE_SGD_STEP, '--seed', '3', '--out', out, ...extra]);

function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let max = 0;
  for (const [k, x] of a) {
    const y = b.get(k)!;
    for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]! - y[i]!));
  }
  return max;
}
const tensors = async (dir: string) => {
  const a = await loadAdapter(dir);
  const out = new Map<string, Float32Array>();
  for (const [m, w] of a.layers)
    for (const [k, v] of Object.entries(w)) if (v instanceof Float32Array) out.set(`${m}.${k}`, v);
  return out;
};

describe('mor train --dtype', () => {
  it('--dtype q4 trains through onnx/model_q4.onnx; one SGD step equals the dequantized fp32 twin’s within 1e-5', async () => {
    const [q, f] = [join(root, 'out-q4'), join(root, 'out-twin')];
    const rq = await train(quantized, q, '--dtype', 'q4');
    expect(rq.stderr).not.toMatch(/^error/m);
    expect(rq.code).toBe(0);
    const rf = await train(twin, f);
    expect(rf.code).toBe(0);
    const [tq, tf] = [await tensors(q), await tensors(f)];
    expect(tq.size).toBeGreaterThan(0);
    expect(maxDiff(tq, tf)).toBeLessThan(1e-5);
  });

  it('--dtype q8 trains through onnx/model_quantized.onnx; one SGD step equals the fake-quantizing twin’s within 1e-5', async () => {
    // The twin rounds the activation as the q8 forward does and takes the straight-through gradient (int8Twin).
    const [q, f] = [join(root, 'out-q8'), join(root, 'out-twin8')];
    const rq = await train(quantized, q, '--dtype', 'q8');
    expect(rq.stderr).not.toMatch(/^error/m);
    expect(rq.code).toBe(0);
    expect((await train(twin8, f)).code).toBe(0);
    const [tq, tf] = [await tensors(q), await tensors(f)];
    expect(tq.size).toBeGreaterThan(0);
    expect(maxDiff(tq, tf)).toBeLessThan(1e-5);
  });

  it('a dtype the directory lacks is refused in one line listing the dtypes it has', async () => {
    const r = await train(quantized, join(root, 'out-missing'), '--dtype', 'fp32');
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe(
      `error: ${join(quantized, 'onnx', 'model.onnx')} is missing: no fp32 graph to train (this model has dtypes q8, q4; pick one with --dtype)`,
    );
    const none = await train(quantized, join(root, 'out-none'));
    expect(none.stderr.trim()).toMatch(
      /model\.onnx is missing: no fp32 graph to train \(this model has dtypes q8, q4;/,
    );
  });

  it('a float16 dtype the directory lacks is refused like any other (fp16/q4f16 training: float16-dtype.test.ts)', async () => {
    const r = await train(quantized, join(root, 'out-f16'), '--dtype', 'q4f16');
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe(
      `error: ${join(quantized, 'onnx', 'model_q4f16.onnx')} is missing: no q4f16 graph to train (this model has dtypes q8, q4; pick one with --dtype)`,
    );
  });
});
