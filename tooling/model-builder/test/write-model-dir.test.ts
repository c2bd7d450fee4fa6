import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { buildLlama, ModelSpecError, writeModelDir } from '../src/index.js';
import { tempModelRoot } from './helpers.js';

describe('writeModelDir and the CLI', () => {
  const tmp = tempModelRoot();
  afterAll(() => tmp.dispose());

  it('writes the transformers.js layout', async () => {
    const built = buildLlama({ hidden: 32, heads: 2, kvHeads: 1, layers: 1 });
    const dir = await writeModelDir(join(tmp.root, 'm'), built);
    for (const f of [
      'config.json',
      'generation_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'onnx/model.onnx',
    ]) {
      expect(existsSync(join(dir, f))).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toMatchObject({
      hidden_size: 32,
      num_key_value_heads: 1,
    });
    expect(Buffer.from(readFileSync(join(dir, 'onnx/model.onnx'))).equals(Buffer.from(built.onnx))).toBe(
      true,
    );
  });

  it('rejects an unknown quantize mode', () => {
    expect(() => buildLlama({ quantize: 'int3' as never })).toThrow(ModelSpecError);
  });

  it('bin/build-model.mjs builds a loadable model from flags', async () => {
    const bin = fileURLToPath(new URL('../bin/build-model.mjs', import.meta.url));
    const out = join(tmp.root, 'cli-bert');
    const r = spawnSync(
      process.execPath,
      [bin, 'bert', out, '--hidden', '16', '--heads', '2', '--labels', 'a,b,c'],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      hidden_size: 16,
      num_attention_heads: 2,
      id2label: { 0: 'a', 1: 'b', 2: 'c' },
    });
    const s = await ort.InferenceSession.create(join(out, 'onnx/model.onnx'));
    expect(s.outputNames).toEqual(['logits']);
    await s.release();
    const bad = spawnSync(process.execPath, [bin, 'nope', out], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
  });
});
