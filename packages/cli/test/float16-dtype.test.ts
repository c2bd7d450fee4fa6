import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertFloatType, writeDtypeFile } from '@mor/model-builder';
import { decodeModel, encodeModelBytes } from '@mor/onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nbitsTwin } from '../../engine/test/train/quantized-twin.js';
import { expectOk, forward, idsFile, type Logits } from './helpers/logits.js';
import { fixture, runCli } from './run-cli.js';

// fp16 and q4f16 files of the PyTorch fixture tiny-llama-kv (made by the model builder from its fp32 graph) against
// their float32 twins: the same graph with the float16-rounded weights (q4f16: MatMulNBits dequantized). Runs on
// the CPU EP, which has float16 kernels for every op here (docs/architecture.md, "Float16 forms").
const FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'];
const ADAPTER = fixture('tiny-llama-kv/mor-adapter');
let root: string;
let half: string;
const twins: Record<'fp16' | 'q4f16', string> = { fp16: '', q4f16: '' };

async function modelDir(dir: string, onnx?: Uint8Array): Promise<string> {
  await mkdir(join(dir, 'onnx'), { recursive: true });
  for (const f of FILES) await copyFile(fixture(`tiny-llama-kv/${f}`), join(dir, f));
  await writeFile(
    join(dir, 'onnx', 'model.onnx'),
    onnx ?? (await readFile(fixture('tiny-llama-kv/onnx/model.onnx'))),
  );
  return dir;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mor-float16-'));
  half = await modelDir(join(root, 'half'));
  for (const dtype of ['fp16', 'q4f16'] as const) {
    const { file } = await writeDtypeFile(half, dtype);
    const m = await decodeModel(await readFile(file));
    convertFloatType(m, 'float32');
    twins[dtype] = await modelDir(join(root, `twin-${dtype}`), await nbitsTwin(encodeModelBytes(m)));
  }
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** max |a − b| / max |b|: the acceptance measure for float16 forms. */
function relDiff(a: Logits, b: Logits): number {
  expect(a.shape).toEqual(b.shape);
  let [d, m] = [0, 0];
  for (let i = 0; i < b.data.length; i++) {
    d = Math.max(d, Math.abs(a.data[i]! - b.data[i]!));
    m = Math.max(m, Math.abs(b.data[i]!));
  }
  return d / m;
}

const greedy = async (model: string, ...extra: string[]) => {
  const r = expectOk(
    await runCli([
      'generate',
      '--model',
      model,
      '--prompt',
      'The small dog',
      '--max-new-tokens',
      '12',
      '--greedy',
      '--json',
      ...extra,
    ]),
  );
  return (JSON.parse(r.stdout) as { token_ids: number[] }).token_ids;
};

describe.each(['fp16', 'q4f16'] as const)('mor forward / generate --dtype %s with a MoR adapter', (dtype) => {
  it('logits within 1e-2 relative of the float32 twin’s (adapter and base), greedy tokens equal', async () => {
    const ids = await idsFile([
      [1, 45, 231, 112, 33, 26],
      [1, 298, 13, 157, 338, 2],
    ]);
    const a = await forward(half, ids, '--dtype', dtype, '--adapter', ADAPTER);
    const b = await forward(twins[dtype], ids, '--adapter', ADAPTER);
    expect(relDiff(a, b)).toBeLessThan(1e-2);
    const base = await forward(twins[dtype], ids);
    expect(relDiff(base, b)).toBeGreaterThan(1e-2); // the adapter moves the logits more than float16 does
    expect(await greedy(half, '--dtype', dtype, '--adapter', ADAPTER)).toEqual(
      await greedy(twins[dtype], '--adapter', ADAPTER),
    );
  });
});
