import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stageModelFiles } from '../src/node/temp-model-files.js';

// A train session stages its train and eval graphs once: the base weights they both hold are written (and
// mapped by onnxruntime) once; files are kept until remove().
describe('stageModelFiles', () => {
  const bytes = (...v: number[]) => Uint8Array.from(v);

  it('writes an external data file shared by two models once, and removes everything', async () => {
    const weight = bytes(1, 2, 3, 4);
    const staged = await stageModelFiles({
      train: { bytes: bytes(9), externalData: [{ path: 'w0', data: weight }] },
      eval: { bytes: bytes(8), externalData: [{ path: 'w0', data: weight }] },
    });
    const dir = dirname(staged.path('train'));
    expect(dirname(staged.path('eval'))).toBe(dir);
    expect(readdirSync(dir).sort()).toEqual(['eval.onnx', 'train.onnx', 'w0']);
    expect([...readFileSync(join(dir, 'w0'))]).toEqual([1, 2, 3, 4]);
    expect([...readFileSync(staged.path('eval'))]).toEqual([8]);
    expect(() => staged.path('other')).toThrow(/no staged model "other" \(staged: train, eval\)/);
    await staged.remove();
    expect(existsSync(dir)).toBe(false);
  });

  it('puts a model whose file name collides with different bytes in a directory of its own', async () => {
    const staged = await stageModelFiles({
      train: { bytes: bytes(9), externalData: [{ path: 'w0', data: bytes(1, 2) }] },
      eval: { bytes: bytes(8), externalData: [{ path: 'w0', data: bytes(3, 4) }] },
    });
    const evalDir = dirname(staged.path('eval'));
    expect(evalDir).toBe(join(dirname(staged.path('train')), 'eval'));
    expect([...readFileSync(join(evalDir, 'w0'))]).toEqual([3, 4]);
    expect([...readFileSync(join(dirname(staged.path('train')), 'w0'))]).toEqual([1, 2]);
    await staged.remove();
    expect(existsSync(dirname(staged.path('train')))).toBe(false);
  });
});
