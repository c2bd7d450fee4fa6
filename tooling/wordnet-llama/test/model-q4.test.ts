import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import { q4Twin, quantizeMatMulsNBits } from '@mor/model-builder';
import { decodeModel, encodeModelBytes } from '@mor/onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// models/wordnet-llama/onnx/model_q4.onnx: the committed fp32 model with every constant-weight MatMul as a 4-bit
// MatMulNBits (`npm run quantize -w tooling/wordnet-llama`). Its greedy generations equal those of its dequantized
// twin, an fp32 graph whose weights this file decodes from the MatMulNBits op definition itself.
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const dir = join(repo, 'models/wordnet-llama');
const PROMPTS = ['dog (noun):', 'the opposite of hot is', 'big is also called'];

let twinRoot: string;
beforeAll(async () => {
  twinRoot = mkdtempSync(join(tmpdir(), 'wordnet-q4-twin-'));
  const twin = join(twinRoot, 'twin');
  mkdirSync(join(twin, 'onnx'), { recursive: true });
  for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'])
    copyFileSync(join(dir, f), join(twin, f));
  writeFileSync(join(twin, 'onnx/model.onnx'), q4Twin(readFileSync(join(dir, 'onnx/model_q4.onnx'))));
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
});
afterAll(() => rmSync(twinRoot, { recursive: true, force: true }));

async function greedy(root: string, name: string, dtype: 'fp32' | 'q4'): Promise<string[]> {
  env.localModelPath = root;
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  const model = await AutoModelForCausalLM.from_pretrained(name, { dtype });
  try {
    const out: string[] = [];
    for (const p of PROMPTS) {
      const enc = tokenizer(p);
      const ids = await model.generate({ ...enc, max_new_tokens: 10, do_sample: false });
      const row = (ids as unknown as { tolist(): bigint[][] }).tolist()[0]!.map(Number);
      out.push(tokenizer.decode(row.slice(enc.input_ids.dims[1]), { skip_special_tokens: true }));
    }
    return out;
  } finally {
    await model.dispose();
  }
}

describe('models/wordnet-llama/onnx/model_q4.onnx', () => {
  it('is what the quantizer writes from onnx/model.onnx: 29 MatMulNBits, block 32, all of models/ ≤ 40 MB', async () => {
    const fp32 = await decodeModel(readFileSync(join(dir, 'onnx/model.onnx')));
    const report = quantizeMatMulsNBits(fp32);
    expect(report.quantized).toHaveLength(29); // 4 layers × 7 projections + lm_head
    const committed = readFileSync(join(dir, 'onnx/model_q4.onnx'));
    expect(Buffer.compare(Buffer.from(encodeModelBytes(fp32)), committed)).toBe(0);
    const q4 = await decodeModel(committed);
    const nbits = q4.graph!.node.filter((n) => n.opType === 'MatMulNBits');
    const blockSize = (n: (typeof nbits)[number]) =>
      Number(n.attribute.find((a) => a.name === 'block_size')!.i);
    expect(nbits.map(blockSize)).toEqual(new Array(29).fill(32));
    const fp32Bytes = readFileSync(join(dir, 'onnx/model.onnx')).length;
    expect(fp32Bytes + committed.length).toBeLessThan(40e6);
  });

  it("loads in transformers.js as dtype 'q4'; greedy text equals its dequantized twin's and reads like fp32's", async () => {
    const q4 = await greedy(join(repo, 'models'), 'wordnet-llama', 'q4');
    const twin = await greedy(twinRoot, 'twin', 'fp32');
    expect(q4).toEqual(twin);
    // Not equal to the fp32 model's after a few tokens (4-bit weights), but the same opening words.
    const fp32 = await greedy(join(repo, 'models'), 'wordnet-llama', 'fp32');
    for (let i = 0; i < PROMPTS.length; i++)
      expect(q4[i]!.split(/\s+/).slice(0, 3), `${q4[i]} vs ${fp32[i]}`).toEqual(
        fp32[i]!.split(/\s+/).slice(0, 3),
      );
  });

  it('mor train --dtype q4 --model models/wordnet-llama takes a step through the 4-bit graph', async () => {
    const out = join(twinRoot, 'adapter');
    const data = join(repo, 'examples/data/wordnet/train.jsonl');
    const args = ['train', '--model', dir, '--dtype', 'q4', '--data', data, '--max-steps', '1'];
    const r = await new Promise<{ code: number; text: string }>((resolve) => {
      execFile(
        process.execPath,
        [join(repo, 'packages/cli/bin/mor.js'), ...args, '--batch-size', '4', '--out', out, '--json'],
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, text: stdout + stderr }),
      );
    });
    expect(r.code, r.text).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'training_summary.json'), 'utf8')) as {
      training: { steps: number };
      metrics: { train_loss_final: number };
    };
    expect(summary.training.steps).toBe(1);
    expect(Number.isFinite(summary.metrics.train_loss_final)).toBe(true);
  });
});
