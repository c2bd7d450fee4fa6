import { cp, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLlama, writeModelDir, randomMorAdapter } from '@mor/model-builder';
import { MergeError } from '@mor/onnx';
import { readModelFile, writeModelFile } from '@mor/onnx/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { forwardLogits } from '../src/index.js';
import { MorInputError } from '@mor/engine';
import { loadModel, mergeAdapterIntoModelDir } from '../src/node/index.js';
import { fixture, readGolden, type NoKvGolden } from './helpers.js';

const scratch = () => mkdtemp(join(tmpdir(), 'mor-merge-'));
const golden = readGolden<NoKvGolden>('tiny-llama/golden.json');

async function logits(model: string, extra: { adapter?: string; gate?: string } = {}): Promise<Float32Array> {
  const { model: m } = await loadModel({ model, tokenizer: false, ...extra });
  try {
    return (await forwardLogits(m, golden.input_ids)).data;
  } finally {
    await m.dispose();
  }
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

describe('mergeAdapterIntoModelDir', () => {
  const TARGETS = ['q_proj', 'v_proj', 'down_proj'];
  let dir: string;
  let fp32: string;
  let withQuantized: string;
  let adapter: string;
  beforeAll(async () => {
    dir = await scratch();
    const built = buildLlama({ seed: 11 });
    fp32 = await writeModelDir(join(dir, 'llama'), built);
    // A model directory holding both a float and a quantized export, as Hub repos often do.
    withQuantized = join(dir, 'llama-q');
    await cp(fp32, withQuantized, { recursive: true });
    await writeModelDir(join(dir, 'q'), buildLlama({ seed: 11, quantize: 'matmulnbits' }));
    await cp(join(dir, 'q', 'onnx', 'model.onnx'), join(withQuantized, 'onnx', 'model_q4.onnx'));
    const q8 = buildLlama({ seed: 11, quantize: 'dynamic-int8' }).onnx;
    await writeFile(join(withQuantized, 'onnx', 'model_quantized.onnx'), q8);
    const layers = built.linears.filter((l) => TARGETS.some((t) => l.module.endsWith(`.${t}`)));
    const { saveAdapter } = await import('@mor/format/node');
    adapter = join(dir, 'adapter');
    await saveAdapter(adapter, randomMorAdapter(layers, { targets: TARGETS, seed: 12 }));
  });

  it('writes a model transformers.js loads, equal to the live adapter under the same gate', async () => {
    const out = join(await scratch(), 'merged');
    const result = await mergeAdapterIntoModelDir({ model: fp32, adapter, gate: [0.7, 0.1, 0.1, 0.1], out });
    expect(result.files).toEqual([{ file: 'onnx/model.onnx', modules: expect.any(Array), branched: [] }]);
    expect(result.files[0]!.modules).toHaveLength(6);
    expect((await readdir(out)).sort()).toEqual((await readdir(fp32)).sort());
    const live = await logits(fp32, { adapter, gate: '[0.7, 0.1, 0.1, 0.1]' });
    expect(maxDiff(await logits(out), live)).toBeLessThan(1e-4);
    expect(maxDiff(await logits(fp32), live)).toBeGreaterThan(1e-3);
  });

  it.each([
    ['q4', 'onnx/model_q4.onnx', 'MatMulNBits'],
    ['q8', 'onnx/model_quantized.onnx', 'MatMulInteger'],
  ] as const)(
    'into a %s file: the weights stay quantized, the adapter is folded in beside them; logits equal the live adapter’s (1e-4)',
    async (dtype, file, op) => {
      const out = join(await scratch(), 'merged');
      const gate = [0.7, 0.1, 0.1, 0.1];
      const result = await mergeAdapterIntoModelDir({ model: withQuantized, adapter, gate, out });
      const entry = result.files.find((f) => f.file === file)!;
      expect(entry.branched.sort()).toEqual(entry.modules.sort());
      expect(entry.modules).toHaveLength(6);
      expect(result.files.find((f) => f.file === 'onnx/model.onnx')!.branched).toEqual([]);
      const graph = await readModelFile(join(out, file));
      const source = await readModelFile(join(withQuantized, file));
      const count = (m: typeof graph) => m.graph!.node.filter((n) => n.opType === op).length;
      expect(count(graph)).toBe(count(source));
      expect(graph.graph!.input.map((i) => i.name)).toEqual(source.graph!.input.map((i) => i.name));
      const at = async (model: string, extra: { adapter?: string; gate?: string } = {}) => {
        const { model: m } = await loadModel({ model, tokenizer: false, dtype, ...extra });
        try {
          return (await forwardLogits(m, golden.input_ids)).data;
        } finally {
          await m.dispose();
        }
      };
      const live = await at(withQuantized, { adapter, gate: JSON.stringify(gate) });
      const d = maxDiff(await at(out), live);
      console.log(`merged ${dtype} vs live adapter: max |Δlogit| ${d}`);
      expect(d).toBeLessThan(1e-4);
      expect(maxDiff(await at(withQuantized), live)).toBeGreaterThan(1e-3);
    },
  );

  it('with quantized: refuse, a quantized file is refused naming it and the layer, and nothing is written', async () => {
    const { mergeStaticGate } = await import('@mor/onnx');
    const graph = await readModelFile(join(withQuantized, 'onnx', 'model_q4.onnx'));
    const { loadAdapter } = await import('@mor/format/node');
    const a = await loadAdapter(adapter);
    if (a.kind !== 'mor') throw new Error('expected a MoR adapter');
    expect(() => mergeStaticGate(graph, a, [0.25, 0.25, 0.25, 0.25], { quantized: 'refuse' })).toThrow(
      MergeError,
    );
    expect(() => mergeStaticGate(graph, a, [0.25, 0.25, 0.25, 0.25], { quantized: 'refuse' })).toThrow(
      /model\.layers\.\d\.(self_attn|mlp)\.\w+_proj: its base weight .* is quantized/,
    );
  });

  it('with dtype merges only that file and leaves the other exports out', async () => {
    const out = join(await scratch(), 'merged');
    await mergeAdapterIntoModelDir({ model: withQuantized, adapter, gate: 'uniform', out, dtype: 'fp32' });
    expect(await readdir(join(out, 'onnx'))).toEqual(['model.onnx']);
    const unknown = mergeAdapterIntoModelDir({
      model: fp32,
      adapter,
      gate: 'uniform',
      out: `${out}2`,
      dtype: 'q9',
    });
    await expect(unknown).rejects.toThrow(/unknown dtype "q9"/);
  });

  it('needs a gate for MoR, refuses a non-empty output unless overwrite, and replaces it with overwrite', async () => {
    const out = await scratch();
    await expect(mergeAdapterIntoModelDir({ model: fp32, adapter, out: join(out, 'x') })).rejects.toThrow(
      MorInputError,
    );
    await writeFile(join(out, 'old.txt'), 'old');
    await expect(mergeAdapterIntoModelDir({ model: fp32, adapter, gate: 'uniform', out })).rejects.toThrow(
      /not empty/,
    );
    expect(await readdir(out)).toEqual(['old.txt']);
    await mergeAdapterIntoModelDir({ model: fp32, adapter, gate: 'uniform', out, overwrite: true });
    expect(await readdir(out)).not.toContain('old.txt');
    expect(await readFile(join(out, 'config.json'), 'utf8')).toBe(
      await readFile(join(fp32, 'config.json'), 'utf8'),
    );
  });

  it('keeps external data external (transformers.js reads it only when config.json says so)', async () => {
    const src = join(await scratch(), 'ext');
    await cp(fixture('tiny-llama'), src, { recursive: true });
    await writeModelFile(
      join(src, 'onnx', 'model.onnx'),
      await readModelFile(join(src, 'onnx', 'model.onnx')),
      {
        externalDataThreshold: 1024,
      },
    );
    const config = JSON.parse(await readFile(join(src, 'config.json'), 'utf8'));
    config['transformers.js_config'] = { use_external_data_format: true };
    await writeFile(join(src, 'config.json'), JSON.stringify(config));
    const out = join(await scratch(), 'merged');
    const mor = fixture('tiny-llama/mor-adapter');
    await mergeAdapterIntoModelDir({ model: src, adapter: mor, gate: 'uniform', out });
    expect(await readdir(join(out, 'onnx'))).toEqual(['model.onnx', 'model.onnx_data']);
    const live = await logits(fixture('tiny-llama'), { adapter: mor, gate: 'uniform' });
    expect(maxDiff(await logits(out), live)).toBeLessThan(1e-4);
  });

  it('merges the fixture PEFT LoRA into tiny-llama to the PyTorch golden logits', async () => {
    const out = join(await scratch(), 'merged');
    await mergeAdapterIntoModelDir({
      model: fixture('tiny-llama'),
      adapter: fixture('tiny-llama/peft-lora'),
      out,
    });
    const merged = await logits(out);
    const max = golden.logits_peft_lora.data.reduce((m, v, i) => Math.max(m, Math.abs(v - merged[i]!)), 0);
    expect(max).toBeLessThan(1e-4);
  });
});
