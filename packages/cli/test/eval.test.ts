import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBertForSequenceClassification, writeModelDir } from '@mor/model-builder';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, runCli } from './run-cli.js';

const F = fixture('tiny-llama');
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('mor eval', () => {
  it('reports the PyTorch golden loss of the fixture adapter (token mean, HF convention)', async () => {
    const golden = JSON.parse(await readFile(`${F}/golden.json`, 'utf8')) as {
      loss_mor: number;
      loss_after_sgd1: number;
    };
    const r = await runCli([
      'eval',
      '--model',
      F,
      '--adapter',
      `${F}/mor-adapter`,
      '--data',
      `${F}/golden_data.jsonl`,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.task).toBe('causal-lm');
    expect(d.loss).toBeCloseTo(golden.loss_mor, 5);
    expect(d.tokens).toBe(14);
    const after = await runCli([
      'eval',
      '--model',
      F,
      '--adapter',
      `${F}/mor-adapter-sgd1`,
      '--data',
      `${F}/golden_data.jsonl`,
    ]);
    expect(after.stdout).toContain(`loss ${golden.loss_after_sgd1.toFixed(4)}  (2 rows, 14 tokens scored)`);
  });

  it('works on the KV-cache export too, and prints accuracy for a classifier', async () => {
    const kv = await runCli([
      'eval',
      '--model',
      fixture('tiny-llama-kv'),
      '--data',
      `${F}/golden_data.jsonl`,
      '--json',
    ]);
    const noKv = await runCli(['eval', '--model', F, '--data', `${F}/golden_data.jsonl`, '--json']);
    expect(kv.code).toBe(0);
    expect(JSON.parse(kv.stdout).loss).toBeCloseTo(JSON.parse(noKv.stdout).loss, 4);
    const dir = await mkdtemp(join(tmpdir(), 'mor-eval-cli-'));
    dirs.push(dir);
    await writeModelDir(
      join(dir, 'bert'),
      buildBertForSequenceClassification({ labels: ['NEG', 'POS'], seed: 2 }),
    );
    await writeFile(
      join(dir, 'c.jsonl'),
      '{"text":"good","label":"POS"}\n{"text":"bad","label":"NEG"}\n{"text":"meh","label":1}\n',
    );
    const r = await runCli(['eval', '--model', join(dir, 'bert'), '--data', join(dir, 'c.jsonl')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^loss \d+\.\d{4} {2}\(3 rows, 3 rows scored\)\naccuracy (0|1)\.\d{4}\n$/);
    expect(['0.0000', '0.3333', '0.6667', '1.0000']).toContain(/accuracy (\S+)/.exec(r.stdout)![1]);
  });

  it('a bad label fails naming the file and line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mor-eval-cli-'));
    dirs.push(dir);
    await writeFile(join(dir, 'c.jsonl'), '{"text":"hi"}\n');
    const r = await runCli(['eval', '--model', F, '--data', join(dir, 'c.jsonl'), '--task', 'seq-cls']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${join(dir, 'c.jsonl')}:1: a text row in a seq-cls run`);
  });
});
