// `--method moelora` end to end through the mor binary: init sizes N independent rank-r LoRAs from the graph,
// inspect describes them, export refuses them, train lowers the eval loss and writes a MOELORA adapter with its summary, gates reads
// its router, merge refuses it with the reason.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { moeLoraParamCount } from '@mor/core';
import { loadAdapter } from '@mor/format/node';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, runCli } from './run-cli.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/data/', import.meta.url));
const F = fixture('tiny-llama');
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function scratch(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mor-moelora-cli-'));
  dirs.push(d);
  return d;
}

// tiny-llama: hidden 64, intermediate 128, 2 layers; gate/up 64 → 128, down 128 → 64.
const SHAPES = [
  { dIn: 64, dOut: 128 },
  { dIn: 64, dOut: 128 },
  { dIn: 128, dOut: 64 },
];

describe('mor --method moelora', () => {
  it('init writes a MoELoRA adapter sized from the graph; inspect describes it', async () => {
    const out = join(await scratch(), 'a');
    const r = await runCli([
      'init',
      '--model',
      F,
      '--out',
      out,
      '--method',
      'moelora',
      '--targets',
      'gate_proj,up_proj,down_proj',
      '--rank',
      '2',
      '--experts',
      '3',
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    const perBlock = SHAPES.reduce(
      (s, shape) => s + moeLoraParamCount(shape, { r: 2, experts: 3, routerBias: false }),
      0,
    );
    expect(d).toMatchObject({ method: 'moelora', r: 2, num_experts: 3, trainable_parameters: 2 * perBlock });
    expect(d.modules).toHaveLength(6);
    expect(JSON.parse(await readFile(join(out, 'adapter_config.json'), 'utf8'))['peft_type']).toBe('MOELORA');
    const inspected = JSON.parse((await runCli(['inspect', out, '--json'])).stdout);
    expect(inspected).toMatchObject({
      adapter_type: 'MOELORA',
      r: 2,
      num_experts: 3,
      trainable_parameters: 2 * perBlock,
    });
    const human = await runCli(['inspect', out]);
    expect(human.stdout).toContain('MoELoRA adapter');
    expect(human.stdout).toContain('r=2 per expert');
    expect(human.stdout).toContain('experts         3, dense routing');
    const exported = await runCli([
      'export',
      '--adapter',
      out,
      '--to',
      'peft-lora',
      '--gate',
      'uniform',
      '--out',
      join(out, '..', 'lora'),
    ]);
    expect(exported.code).not.toBe(0);
    expect(exported.stderr).toContain('is a MoELoRA adapter: it cannot be exported as one LoRA');
  });

  it('train lowers the eval loss and writes a MOELORA adapter; gates reads its router; merge is refused', async () => {
    const out = join(await scratch(), 'mt');
    const r = await runCli([
      'train',
      '--model',
      F,
      '--method',
      'moelora',
      '--data',
      join(EXAMPLES, 'multitask.jsonl'),
      '--eval-data',
      join(EXAMPLES, 'multitask-eval.jsonl'),
      '--targets',
      'gate_proj,up_proj,down_proj',
      '--rank',
      '2',
      '--experts',
      '3',
      '--top-k',
      '2',
      '--lr',
      '1e-2',
      '--max-steps',
      '12',
      '--batch-size',
      '16',
      '--seed',
      '3',
      '--out',
      out,
      '--json',
    ]);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.eval_after.loss).toBeLessThan(summary.eval_before.loss - 0.05);
    const adapter = await loadAdapter(out);
    expect(adapter.kind).toBe('moelora');
    if (adapter.kind !== 'moelora') return;
    expect(adapter.config).toMatchObject({ r: 2, experts: 3, topK: 2 });
    // Fresh B_i are zeros; training moved them.
    expect([...adapter.layers.values()].some((l) => l.B.some((v) => v !== 0))).toBe(true);
    const training = JSON.parse(await readFile(join(out, 'training_summary.json'), 'utf8'))['training'];
    expect(training).toMatchObject({ method: 'moelora', r: 2, experts: 3, top_k: 2 });

    const gates = await runCli([
      'gates',
      '--model',
      F,
      '--adapter',
      out,
      '--data',
      join(EXAMPLES, 'multitask-eval.jsonl'),
      '--json',
    ]);
    expect(gates.code).toBe(0);
    const stats = JSON.parse(gates.stdout);
    expect(stats.overall).toHaveLength(3);
    expect(stats.overall.reduce((s: number, g: number) => s + g, 0)).toBeCloseTo(1, 5);

    const merged = await runCli([
      'merge',
      '--model',
      F,
      '--adapter',
      out,
      '--out',
      join(out, '..', 'merged'),
    ]);
    expect(merged.code).not.toBe(0);
    expect(merged.stderr).toContain(
      'a MoELoRA adapter cannot be merged: its router mixes the experts per token',
    );
  });
});
