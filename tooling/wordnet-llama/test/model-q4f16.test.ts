import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import { toDtype } from '@mor/model-builder';
import { decodeModel, encodeModelBytes } from '@mor/onnx';
import { afterAll, describe, expect, it } from 'vitest';

// models/wordnet-llama/onnx/model_q4f16.onnx: the committed fp32 model as transformers.js' `q4f16` file — float16
// activations and scales, every constant-weight MatMul a 4-bit MatMulNBits (`npm run quantize:q4f16 -w
// tooling/wordnet-llama`). What the demo loads when a user picks q4f16. The form itself (against its float32 twin,
// on CPU and WASM) is tested in tooling/model-builder; here: the committed file is what the writer makes, it
// writes the base's English, and `mor train --dtype q4f16` trains through it (loss scaling on).
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const dir = join(repo, 'models/wordnet-llama');
const PROMPTS = ['dog (noun):', 'the opposite of hot is', 'big is also called'];
const work = mkdtempSync(join(tmpdir(), 'wordnet-q4f16-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function greedy(dtype: 'q4' | 'q4f16'): Promise<string[]> {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = join(repo, 'models');
  const tokenizer = await AutoTokenizer.from_pretrained('wordnet-llama');
  const model = await AutoModelForCausalLM.from_pretrained('wordnet-llama', { dtype });
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

describe('models/wordnet-llama/onnx/model_q4f16.onnx', () => {
  it('is what the q4f16 writer makes of onnx/model.onnx, and all of models/wordnet-llama stays ≤ 40 MB', async () => {
    const model = await decodeModel(readFileSync(join(dir, 'onnx/model.onnx')));
    toDtype(model, 'q4f16');
    const committed = readFileSync(join(dir, 'onnx/model_q4f16.onnx'));
    expect(Buffer.compare(Buffer.from(encodeModelBytes(model)), committed)).toBe(0);
    const q4f16 = await decodeModel(committed);
    expect(q4f16.graph!.node.filter((n) => n.opType === 'MatMulNBits')).toHaveLength(29);
    const logits = q4f16.graph!.output.find((o) => o.name === 'logits')!;
    expect(logits.type?.value.case === 'tensorType' && logits.type.value.value.elemType).toBe(10); // FLOAT16
    const files = ['model.onnx', 'model_q4.onnx', 'model_q4f16.onnx'];
    const bytes = files.reduce((a, f) => a + readFileSync(join(dir, 'onnx', f)).length, 0);
    expect(bytes).toBeLessThan(40e6);
  });

  it("loads in transformers.js as dtype 'q4f16' and opens its answers as the q4 file does", async () => {
    const [q4, q4f16] = [await greedy('q4'), await greedy('q4f16')];
    // float16 activations: the same opening words; later tokens may differ.
    for (let i = 0; i < PROMPTS.length; i++)
      expect(q4f16[i]!.split(/\s+/).slice(0, 3), `${q4f16[i]} vs ${q4[i]}`).toEqual(
        q4[i]!.split(/\s+/).slice(0, 3),
      );
  });

  it('mor train --dtype q4f16 takes finite steps through it', async () => {
    const out = join(work, 'adapter');
    const data = join(repo, 'examples/data/wordnet/train.jsonl');
    const args = ['train', '--model', dir, '--dtype', 'q4f16', '--data', data, '--max-steps', '2'];
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
    expect(summary.training.steps).toBe(2);
    expect(Number.isFinite(summary.metrics.train_loss_final)).toBe(true);
  });
});
