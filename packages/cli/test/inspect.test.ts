import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, runCli } from './run-cli.js';

/** Copies a fixture adapter into a scratch dir so a test can corrupt it. */
async function scratchAdapter(src = 'tiny-llama/mor-adapter'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mor-inspect-'));
  await cp(fixture(src), dir, { recursive: true });
  return dir;
}

function expectOneLineError(r: { code: number; stderr: string; stdout: string }, ...parts: string[]): void {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  for (const p of parts) expect(lines[0]).toContain(p);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('mor inspect', () => {
  it('reports the MoR fixture adapter: 6 modules, 9,312 parameters', async () => {
    const r = await runCli(['inspect', fixture('tiny-llama/mor-adapter'), '--json']);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.kind).toBe('adapter');
    expect(d.adapter_type).toBe('MOR');
    expect(d.adapted_modules).toBe(6);
    expect(d.trainable_parameters).toBe(9312);
    expect(d.num_experts).toBe(4);
    expect(d.r).toBe(4);
    expect(d.target_modules).toEqual(['gate_proj', 'up_proj', 'down_proj']);
    expect(d.modules.map((m: { module: string }) => m.module)).toContain('model.layers.1.mlp.down_proj');
  });

  it('reports the PEFT LoRA fixture: LoRA, 1,792 parameters', async () => {
    const r = await runCli(['inspect', fixture('tiny-llama/peft-lora'), '--json']);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.adapter_type).toBe('LORA');
    expect(d.trainable_parameters).toBe(1792);
    expect(d.adapted_modules).toBe(4);
  });

  it('prints a human summary by default', async () => {
    const r = await runCli(['inspect', fixture('tiny-llama/mor-adapter')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('MoR adapter');
    expect(r.stdout).toContain('9,312');
  });

  it('describes a model directory with its ONNX files', async () => {
    const r = await runCli(['inspect', fixture('tiny-llama-kv'), '--json']);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.kind).toBe('model');
    expect(d.model_type).toBe('llama');
    expect(d.onnx_files.map((f: { file: string }) => f.file)).toEqual(['onnx/model.onnx']);
  });

  it('lists the adaptable layers of a model with Hugging Face module paths, kinds and sizes', async () => {
    const r = await runCli(['inspect', fixture('tiny-llama-kv'), '--json']);
    const layers = JSON.parse(r.stdout).adaptable_layers as {
      module: string;
      kind: string;
      d_in: number;
      d_out: number;
    }[];
    expect(layers).toHaveLength(15); // 7 per block × 2, and lm_head
    expect(layers).toContainEqual({
      module: 'model.layers.1.self_attn.k_proj',
      kind: 'matmul',
      d_in: 64,
      d_out: 32,
      quantized: false,
    });
    expect(layers).toContainEqual({
      module: 'model.layers.0.mlp.down_proj',
      kind: 'matmul',
      d_in: 128,
      d_out: 64,
      quantized: false,
    });
    expect(layers.at(-1)).toMatchObject({ module: 'lm_head', d_in: 64, d_out: 384 });
    const human = await runCli(['inspect', fixture('tiny-llama-kv')]);
    expect(human.stdout).toContain('model.layers.0.mlp.gate_proj  matmul  [64 → 128]');
  });

  it('refuses a truncated safetensors file', async () => {
    const dir = await scratchAdapter();
    const file = join(dir, 'adapter_model.safetensors');
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.length - 100));
    expectOneLineError(await runCli(['inspect', dir]), 'adapter_model.safetensors');
  });

  it('refuses a header length past the end of the file', async () => {
    const dir = await scratchAdapter();
    const file = join(dir, 'adapter_model.safetensors');
    const bytes = await readFile(file);
    bytes.writeBigUInt64LE(BigInt(bytes.length + 10), 0);
    await writeFile(file, bytes);
    expectOneLineError(await runCli(['inspect', dir]), 'adapter_model.safetensors', 'header');
  });

  it('refuses a header that is not JSON', async () => {
    const dir = await scratchAdapter();
    const file = join(dir, 'adapter_model.safetensors');
    const bytes = await readFile(file);
    bytes.write('#', 8, 'latin1');
    await writeFile(file, bytes);
    expectOneLineError(await runCli(['inspect', dir]), 'adapter_model.safetensors', 'JSON');
  });

  it('refuses a NaN in a tensor and names the tensor', async () => {
    const dir = await scratchAdapter();
    const file = join(dir, 'adapter_model.safetensors');
    const bytes = await readFile(file);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8'));
    const name = 'base_model.model.model.layers.0.mlp.up_proj.mor_omega_B';
    const [begin] = header[name].data_offsets;
    bytes.writeFloatLE(Number.NaN, 8 + headerLen + begin + 4 * 3);
    await writeFile(file, bytes);
    expectOneLineError(await runCli(['inspect', dir]), 'adapter_model.safetensors', name);
  });

  it('refuses a config whose num_experts disagrees with the tensors', async () => {
    const dir = await scratchAdapter();
    const file = join(dir, 'adapter_config.json');
    const config = JSON.parse(await readFile(file, 'utf8'));
    config.num_experts = 3;
    await writeFile(file, JSON.stringify(config));
    expectOneLineError(await runCli(['inspect', dir]), 'adapter_model.safetensors', 'num_experts');
  });

  it('gives a one-line error for a missing path and for an unknown command', async () => {
    expectOneLineError(await runCli(['inspect', '/nonexistent/adapter']), '/nonexistent/adapter');
    const r = await runCli(['inspekt']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^error: /);
  });
});
