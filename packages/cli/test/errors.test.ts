import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineError, idsFile, scratch } from './helpers/logits.js';
import { fixture, runCli } from './run-cli.js';

const model = fixture('tiny-llama');
const mor = fixture('tiny-llama/mor-adapter');
const lora = fixture('tiny-llama/peft-lora');
const golden = JSON.parse(await readFile(fixture('tiny-llama/golden.json'), 'utf8')) as {
  input_ids: number[][];
};

describe('one-line errors for wrong use', () => {
  it('merge of a MoR adapter without --gate names the missing gate, and writes nothing', async () => {
    const out = join(await scratch(), 'merged');
    expectOneLineError(await runCli(['merge', '--model', model, '--adapter', mor, '--out', out]), 'gate');
    await expect(readFile(join(out, 'config.json'))).rejects.toThrow();
  });

  it('a gate of the wrong length says how many experts there are', async () => {
    const out = join(await scratch(), 'merged');
    const r = await runCli([
      'merge',
      '--model',
      model,
      '--adapter',
      mor,
      '--out',
      out,
      '--gate',
      '[0.5,0.5]',
    ]);
    expectOneLineError(r, '4 finite numbers');
    const ids = await idsFile(golden.input_ids);
    const f = await runCli([
      'forward',
      '--model',
      model,
      '--input-ids',
      ids,
      '--out',
      join(out, 'x.json'),
      '--adapter',
      mor,
      '--gate',
      '[1,0,0]',
    ]);
    expectOneLineError(f, '4 finite numbers');
  });

  it('an unknown static gate name lists the valid ones', async () => {
    const r = await runCli([
      'export',
      '--adapter',
      mor,
      '--to',
      'peft-lora',
      '--out',
      join(await scratch(), 'x'),
      '--gate',
      'task-a',
    ]);
    expectOneLineError(r, 'unknown gate "task-a"', 'uniform');
  });

  it('export of a LoRA adapter is refused', async () => {
    const r = await runCli([
      'export',
      '--adapter',
      lora,
      '--to',
      'peft-lora',
      '--gate',
      'uniform',
      '--out',
      join(await scratch(), 'x'),
    ]);
    expectOneLineError(r, 'already a LoRA');
  });

  it('export to an unknown format lists the formats', async () => {
    const r = await runCli([
      'export',
      '--adapter',
      mor,
      '--to',
      'gguf',
      '--gate',
      'uniform',
      '--out',
      join(await scratch(), 'x'),
    ]);
    expectOneLineError(r, 'gguf', 'peft-lora');
  });

  it('an unknown device lists the valid devices; wasm is refused in Node with a reason', async () => {
    const ids = await idsFile(golden.input_ids);
    const out = join(await scratch(), 'x.json');
    const args = ['forward', '--model', model, '--input-ids', ids, '--out', out];
    expectOneLineError(await runCli([...args, '--device', 'tpu']), 'tpu', 'cpu, webgpu, cuda, wasm');
    expectOneLineError(await runCli([...args, '--device', 'wasm']), 'wasm', 'browser');
  });

  it('a missing input-ids file is named', async () => {
    const missing = join(await scratch(), 'missing.json');
    const r = await runCli([
      'forward',
      '--model',
      model,
      '--input-ids',
      missing,
      '--out',
      join(await scratch(), 'x.json'),
    ]);
    expectOneLineError(r, missing, 'no such file');
  });

  it('ragged input-ids rows and a missing model directory are refused', async () => {
    const ragged = await idsFile([
      [1, 2, 3],
      [1, 2],
    ]);
    const out = join(await scratch(), 'x.json');
    expectOneLineError(
      await runCli(['forward', '--model', model, '--input-ids', ragged, '--out', out]),
      'equal length',
    );
    const ids = await idsFile(golden.input_ids);
    expectOneLineError(
      await runCli(['forward', '--model', './no/such/model', '--input-ids', ids, '--out', out]),
      'does not exist',
    );
  });

  it('a gate on a LoRA adapter, and merge into a non-empty directory, are refused', async () => {
    const dir = await scratch();
    expectOneLineError(
      await runCli(['merge', '--model', model, '--adapter', lora, '--gate', 'uniform', '--out', dir]),
      'LoRA',
    );
    const nonEmpty = await scratch();
    await writeFile(join(nonEmpty, 'keep.txt'), 'mine');
    const r = await runCli(['merge', '--model', model, '--adapter', lora, '--out', nonEmpty]);
    expectOneLineError(r, 'not empty');
    expect(await readdir(nonEmpty)).toEqual(['keep.txt']);
  });
});

describe('train and eval read their shared flags the same way', () => {
  it('--task is checked by one rule in both, before any model is opened', async () => {
    for (const command of ['train', 'eval']) {
      const extra = command === 'train' ? ['--out', join(await scratch(), 'out')] : [];
      const data = fixture('tiny-llama/golden_data.jsonl');
      const r = await runCli([command, '--model', model, '--data', data, '--task', 'lm', ...extra]);
      expectOneLineError(r, '--task "lm" is not one of causal-lm, seq-cls');
      const n = await runCli([command, '--model', model, '--data', data, '--max-length', '0', ...extra]);
      expectOneLineError(n, '--max-length expects a positive integer, got "0"');
    }
  });
});

describe('mor --version', () => {
  it('prints the version of the installed @mor/cli package (not a constant of its own)', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});
