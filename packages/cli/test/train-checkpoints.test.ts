import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, runCli } from './run-cli.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/data/', import.meta.url));
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const train = (out: string, extra: string[]) =>
  runCli([
    'train',
    '--model',
    fixture('tiny-llama'),
    '--data',
    join(EXAMPLES, 'multitask.jsonl'),
    '--targets',
    'gate_proj,up_proj,down_proj',
    '--rank',
    '4',
    '--lr',
    '1e-2',
    '--batch-size',
    '4',
    '--seed',
    '11',
    '--max-steps',
    '6',
    '--save-every',
    '1',
    '--out',
    out,
    ...extra,
  ]);

describe('mor train --save-total-limit', () => {
  it('keeps the newest N checkpoints; with --eval-data the best stays beside the newest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mor-cli-limit-'));
    dirs.push(dir);
    const plain = await train(join(dir, 'plain'), ['--save-total-limit', '2']);
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain('removed checkpoint-1 (save total limit 2)');
    expect((await readdir(join(dir, 'plain'))).filter((f) => f.startsWith('checkpoint-')).sort()).toEqual([
      'checkpoint-4',
      'checkpoint-5',
    ]);
    const scored = await train(join(dir, 'scored'), [
      '--save-total-limit',
      '1',
      '--eval-data',
      fixture('tiny-llama/golden_data.jsonl'),
    ]);
    expect(scored.code).toBe(0);
    const state = JSON.parse(
      await readFile(join(dir, 'scored', 'checkpoint-5', 'trainer_state.json'), 'utf8'),
    );
    expect(state.best_checkpoint).toMatch(/^checkpoint-[1-4]$/); // this data makes an earlier one the best
    expect(scored.stderr).toMatch(/checkpoint written: .*checkpoint-5 \(eval loss \d+\.\d{4}\)/);
    expect((await readdir(join(dir, 'scored'))).filter((f) => f.startsWith('checkpoint-')).sort()).toEqual([
      state.best_checkpoint,
      'checkpoint-5',
    ]);
  });

  it('refuses a limit that is not a positive integer', async () => {
    const r = await train('/tmp/never', ['--save-total-limit', '0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('error: --save-total-limit expects a positive integer, got "0"');
  });
});
