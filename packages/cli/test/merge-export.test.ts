import { cp, readFile, readdir } from 'node:fs/promises';
import { quantizeMatMulsNBits } from '@mor/model-builder';
import { readModelFile, writeModelFile } from '@mor/onnx/node';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOk, forward, idsFile, maxDiff, scratch } from './helpers/logits.js';
import { fixture, runCli } from './run-cli.js';

const model = fixture('tiny-llama');
const mor = fixture('tiny-llama/mor-adapter');
const golden = JSON.parse(await readFile(fixture('tiny-llama/golden.json'), 'utf8')) as {
  input_ids: number[][];
};

/** The three ways of applying a MoR adapter under a fixed gate, which mor-spec.md §3 says are one function. */
async function threeWays(gate: string) {
  const ids = await idsFile(golden.input_ids);
  const merged = join(await scratch(), 'merged');
  const peft = join(await scratch(), 'peft');
  const [m, e] = await Promise.all([
    runCli(['merge', '--model', model, '--adapter', mor, '--gate', gate, '--out', merged]),
    runCli(['export', '--adapter', mor, '--to', 'peft-lora', '--gate', gate, '--out', peft]),
  ]);
  expectOk(m);
  expectOk(e);
  const [mergedLogits, exported, live, dynamic] = await Promise.all([
    forward(merged, ids),
    forward(model, ids, '--adapter', peft),
    forward(model, ids, '--adapter', mor, '--gate', gate),
    forward(model, ids, '--adapter', mor),
  ]);
  return { merged: mergedLogits, exported, live, dynamic, mergedDir: merged, peftDir: peft };
}

describe('merge, export and live adapter agree under a fixed gate (tiny-llama)', () => {
  let uniform: Awaited<ReturnType<typeof threeWays>>;
  beforeAll(async () => {
    uniform = await threeWays('uniform');
  });

  it('uniform gate: merged == exported PEFT LoRA == live static routing, within 1e-4', () => {
    expect(maxDiff(uniform.merged, uniform.live)).toBeLessThan(1e-4);
    expect(maxDiff(uniform.exported, uniform.live)).toBeLessThan(1e-4);
    // The gate matters: the router's per-token gates give other logits.
    expect(maxDiff(uniform.dynamic, uniform.live)).toBeGreaterThan(1e-3);
  });

  it('a random gate as a JSON array: the same three-way agreement, and different logits than uniform', async () => {
    const random = await threeWays(JSON.stringify([0.05, 0.6, 0.1, 0.25]));
    expect(maxDiff(random.merged, random.live)).toBeLessThan(1e-4);
    expect(maxDiff(random.exported, random.live)).toBeLessThan(1e-4);
    expect(maxDiff(random.live, uniform.live)).toBeGreaterThan(1e-3);
  });

  it('the merged directory is complete: config, generation config, tokenizer files and onnx/model.onnx', async () => {
    const source = (await readdir(model)).filter((f) => f.endsWith('.json') || f.endsWith('.safetensors'));
    const files = await readdir(uniform.mergedDir);
    for (const f of source) expect(files).toContain(f);
    expect(await readdir(join(uniform.mergedDir, 'onnx'))).toEqual(['model.onnx']);
    expect(await readFile(join(uniform.mergedDir, 'tokenizer.json'), 'utf8')).toBe(
      await readFile(join(model, 'tokenizer.json'), 'utf8'),
    );
    // No temporary directory is left next to the output.
    expect((await readdir(join(uniform.mergedDir, '..'))).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('the exported adapter is a PEFT LoRA config with PEFT keys and lora_A/lora_B tensors', async () => {
    const config = JSON.parse(await readFile(join(uniform.peftDir, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({
      peft_type: 'LORA',
      r: 4,
      lora_alpha: 8,
      target_modules: ['gate_proj', 'up_proj', 'down_proj'],
      fan_in_fan_out: false,
      use_rslora: false,
      task_type: 'CAUSAL_LM',
      base_model_name_or_path: 'tiny-llama',
    });
    const r = expectOk(await runCli(['inspect', uniform.peftDir, '--json']));
    const d = JSON.parse(r.stdout);
    expect(d.adapter_type).toBe('LORA');
    expect(d.adapted_modules).toBe(6);
  });

  it('a PEFT LoRA merges without a gate and matches the live LoRA', async () => {
    const ids = await idsFile(golden.input_ids);
    const lora = fixture('tiny-llama/peft-lora');
    const merged = join(await scratch(), 'merged-lora');
    expectOk(await runCli(['merge', '--model', model, '--adapter', lora, '--out', merged]));
    expect(maxDiff(await forward(merged, ids), await forward(model, ids, '--adapter', lora))).toBeLessThan(
      1e-4,
    );
  });

  it('into a q4 file: the 4-bit weights stay, the adapter is folded in beside them, logits equal the live adapter’s', async () => {
    // tiny-llama with its linears as MatMulNBits (model-builder's rewrite), beside the fp32 file.
    const q = join(await scratch(), 'tiny-llama-q4');
    await cp(model, q, { recursive: true });
    const graph = await readModelFile(join(q, 'onnx', 'model.onnx'));
    quantizeMatMulsNBits(graph);
    await writeModelFile(join(q, 'onnx', 'model_q4.onnx'), graph);
    const ids = await idsFile(golden.input_ids);
    const merged = join(await scratch(), 'merged-q4');
    const r = await runCli(['merge', '--model', q, '--adapter', mor, '--gate', 'uniform', '--out', merged]);
    expectOk(r);
    expect(r.stdout).toMatch(/^merged \d+ modules into onnx\/model\.onnx$/m);
    expect(r.stdout).toMatch(
      /^merged (\d+) modules into onnx\/model_q4\.onnx \(\1 with quantized weights: kept quantized, the adapter folded in beside them as a float32 branch\)$/m,
    );
    const ops = (await readModelFile(join(merged, 'onnx', 'model_q4.onnx'))).graph!.node.map((n) => n.opType);
    expect(ops.filter((o) => o === 'MatMulNBits').length).toBe(
      graph.graph!.node.filter((n) => n.opType === 'MatMulNBits').length,
    );
    const live = await forward(q, ids, '--adapter', mor, '--gate', 'uniform', '--dtype', 'q4');
    expect(maxDiff(await forward(merged, ids, '--dtype', 'q4'), live)).toBeLessThan(1e-4);
    expect(maxDiff(await forward(q, ids, '--dtype', 'q4'), live)).toBeGreaterThan(1e-3);
  });
});
