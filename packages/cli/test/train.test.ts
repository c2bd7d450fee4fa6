import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAdapter } from '@mor/format/node';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, ONE_SGD_STEP, runCli } from './run-cli.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/data/', import.meta.url));
const F = fixture('tiny-llama');
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function scratch(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mor-train-cli-'));
  dirs.push(d);
  return d;
}

describe('mor train', () => {
  it.each([[[]], [['--gradient-checkpointing']]])(
    'one SGD step %j writes the adapter of fixtures/tiny-llama/mor-adapter-sgd1 (PyTorch autograd) within 1e-5',
    async (flags: string[]) => {
      const out = join(await scratch(), 'X');
      const r = await runCli([
        'train',
        ...flags,
        '--model',
        F,
        '--init',
        `${F}/mor-adapter`,
        '--data',
        `${F}/golden_data.jsonl`,
        ...ONE_SGD_STEP,
        '--out',
        out,
      ]);
      expect(r.stderr).not.toMatch(/^error/m);
      expect(r.code).toBe(0);
      expect((await readdir(out)).sort()).toEqual([
        'adapter_config.json',
        'adapter_model.safetensors',
        'training_summary.json',
      ]);
      const got = await loadAdapter(out);
      const want = await loadAdapter(`${F}/mor-adapter-sgd1`);
      if (got.kind !== 'mor' || want.kind !== 'mor') throw new Error('expected MoR adapters');
      expect([...got.layers.keys()]).toEqual([...want.layers.keys()]);
      for (const [mod, w] of want.layers) {
        const g = got.layers.get(mod)!;
        for (const k of ['A', 'B', 'omegaA', 'omegaB', 'routerWeight'] as const) {
          const diff = Math.max(...Array.from(w[k], (v, i) => Math.abs(v - g[k][i]!)));
          expect(diff, `${mod}.${k}`).toBeLessThan(1e-5);
        }
      }
    },
  );

  it('lowers the eval loss on the multitask examples (--json), with checkpoints and progress lines on stderr', async () => {
    const out = join(await scratch(), 'mt');
    const r = await runCli([
      'train',
      '--model',
      F,
      '--data',
      join(EXAMPLES, 'multitask.jsonl'),
      '--eval-data',
      join(EXAMPLES, 'multitask-eval.jsonl'),
      '--targets',
      'gate_proj,up_proj,down_proj',
      '--rank',
      '4',
      '--lr',
      '1e-2',
      '--max-steps',
      '24',
      '--batch-size',
      '16',
      '--save-every',
      '10',
      '--seed',
      '3',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.steps).toBe(24);
    expect(d.eval_after.loss).toBeLessThan(d.eval_before.loss);
    expect(r.stderr).toMatch(/step 24\/24 {2}loss \d+\.\d{4}/);
    expect(r.stderr).toContain('eval before: loss');
    expect((await readdir(out)).filter((f) => f.startsWith('checkpoint-')).sort()).toEqual([
      'checkpoint-10',
      'checkpoint-20',
    ]);
    expect((await readdir(join(out, 'checkpoint-10'))).sort()).toEqual([
      'adapter_config.json',
      'adapter_model.safetensors',
      'optimizer.safetensors',
      'trainer_state.json',
    ]);
  });

  it('a malformed row fails before training with one line naming the file and line', async () => {
    const dir = await scratch();
    const data = join(dir, 'bad.jsonl');
    await writeFile(data, '{"text": "fine"}\n{"prompt": "no completion"}\n');
    const r = await runCli([
      'train',
      '--model',
      F,
      '--data',
      data,
      '--out',
      join(dir, 'o'),
      '--targets',
      'q_proj',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe(`error: ${data}:2: "prompt" and "completion" must both be strings`);
    expect(await readdir(dir)).toEqual(['bad.jsonl']);
  });

  it('a model without the fp32 graph is refused in one line that lists the dtypes it has', async () => {
    const dir = await scratch();
    const model = join(dir, 'q4-only');
    await mkdir(join(model, 'onnx'), { recursive: true });
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json'])
      await copyFile(join(F, f), join(model, f));
    await copyFile(join(F, 'onnx', 'model.onnx'), join(model, 'onnx', 'model_q4.onnx'));
    const r = await runCli([
      'train',
      '--model',
      model,
      '--data',
      `${F}/golden_data.jsonl`,
      '--out',
      join(dir, 'o'),
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe(
      `error: ${join(model, 'onnx', 'model.onnx')} is missing: no fp32 graph to train (this model has dtypes q4; ` +
        'pick one with --dtype)',
    );
  });

  it('refuses unknown choices listing the valid ones', async () => {
    const r = await runCli([
      'train',
      '--model',
      F,
      '--data',
      `${F}/golden_data.jsonl`,
      '--out',
      '/tmp/never',
      '--optimizer',
      'adam',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('error: --optimizer "adam" is not one of adamw, sgd');
  });
});
