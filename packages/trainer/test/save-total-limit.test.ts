import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkpointsToDelete,
  loadCheckpoint,
  trainAdapter,
  type TrainAdapterOptions,
} from '../src/node/index.js';
import { fixture, scratch } from './helpers.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/data/', import.meta.url));
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function out(): Promise<string> {
  const d = await scratch('mor-limit-');
  dirs.push(d);
  return d;
}

const base = (): Omit<TrainAdapterOptions, 'out'> => ({
  model: fixture('tiny-llama'),
  data: join(EXAMPLES, 'multitask.jsonl'),
  targets: ['gate_proj', 'up_proj', 'down_proj'],
  rank: 4,
  experts: 4,
  lr: 1e-2,
  batchSize: 4,
  seed: 11,
  maxSteps: 6,
  saveEvery: 1, // checkpoints 1…5 (none at the last step: the adapter itself is written then)
});
/** The final adapter of the same run without a limit or eval data, trained once. */
let reference: Promise<Buffer> | undefined;
const referenceWeights = () =>
  (reference ??= out().then(async (dir) => {
    await trainAdapter({ ...base(), saveEvery: 0, out: dir });
    return readFile(join(dir, 'adapter_model.safetensors'));
  }));
const checkpoints = async (dir: string) =>
  (await readdir(dir))
    .filter((f) => f.startsWith('checkpoint-'))
    .sort((a, b) => Number(a.slice(11)) - Number(b.slice(11)));
const cps = (...steps: number[]) => steps.map((s) => `checkpoint-${s}`);

describe('checkpointsToDelete (transformers’ _rotate_checkpoints)', () => {
  const all = cps(1, 2, 3, 4, 5);
  it('keeps the newest `limit` without a best', () => {
    expect(checkpointsToDelete(all, 2, null)).toEqual(cps(1, 2, 3));
    expect(checkpointsToDelete(all, 5, null)).toEqual([]);
    expect(checkpointsToDelete(all, 9, null)).toEqual([]);
  });
  it('keeps an old best in place of the oldest of the newest, so `limit` remain', () => {
    // transformers' docs: "for save_total_limit=5 … the four last checkpoints … alongside the best model"
    expect(checkpointsToDelete(all, 3, 'checkpoint-1')).toEqual(cps(2, 3));
    expect(checkpointsToDelete(all, 3, 'checkpoint-4')).toEqual(cps(1, 2)); // best among the newest: as without
  });
  it('with a limit of 1 keeps the best beside the newest (two remain), or the newest alone when it is the best', () => {
    expect(checkpointsToDelete(all, 1, 'checkpoint-2')).toEqual(cps(1, 3, 4));
    expect(checkpointsToDelete(all, 1, 'checkpoint-5')).toEqual(cps(1, 2, 3, 4));
    expect(checkpointsToDelete(all, 1, 'checkpoint-9')).toEqual(cps(1, 2, 3, 4)); // a best already gone
  });
});

describe('trainAdapter saveTotalLimit', () => {
  it('keeps the newest checkpoints, each complete, and trains to the same adapter', async () => {
    const a = await out();
    const log: string[] = [];
    await trainAdapter({ ...base(), saveTotalLimit: 2, out: a }, { onLog: (l) => log.push(l) });
    expect(await checkpoints(a)).toEqual(cps(4, 5));
    expect(log.filter((l) => l.startsWith('removed'))).toEqual(
      [1, 2, 3].map((s) => `removed checkpoint-${s} (save total limit 2)`),
    );
    // Every removal follows the write of the checkpoint that replaces it.
    expect(log.indexOf('removed checkpoint-1 (save total limit 2)')).toBeGreaterThan(
      log.findIndex((l) => l.endsWith('checkpoint-3')),
    );
    for (const c of await checkpoints(a))
      expect((await loadCheckpoint(join(a, c))).state.step).toBe(Number(c.slice(11)));
    expect(await readFile(join(a, 'adapter_model.safetensors'))).toEqual(await referenceWeights());
  });

  it.each([
    [1, (best: number) => [best, 5]],
    [3, (best: number) => [best, 4, 5]],
  ])('with eval data and limit %i keeps the best by eval loss as transformers does', async (limit, kept) => {
    const dir = await out();
    const log: string[] = [];
    // Scored on other rows than it trains on, so the eval loss does not simply fall with every step.
    const evalData = fixture('tiny-llama/golden_data.jsonl');
    await trainAdapter(
      { ...base(), evalData, saveTotalLimit: limit, out: dir },
      { onLog: (l) => log.push(l) },
    );
    const scored = log
      .map((l) => /checkpoint-(\d+) \(eval loss (\d+\.\d+)\)$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => ({ step: Number(m[1]), loss: Number(m[2]) }));
    expect(scored.map((s) => s.step)).toEqual([1, 2, 3, 4, 5]);
    const newest = await loadCheckpoint(join(dir, 'checkpoint-5'));
    const best = Number(newest.state.best_checkpoint!.slice(11));
    // The recorded best is the lowest (earliest on a tie) of the losses logged at 4 decimals.
    const lowest = Math.min(...scored.map((s) => s.loss));
    expect(scored.find((s) => s.loss === lowest)!.step).toBe(best);
    expect(newest.state.best_eval_loss).toBeCloseTo(lowest, 4);
    expect(best, 'this data must make an earlier checkpoint the best').toBeLessThan(4);
    expect(await checkpoints(dir)).toEqual(cps(...kept(best)));
    // Scoring the checkpoints does not change the training.
    expect(await readFile(join(dir, 'adapter_model.safetensors'))).toEqual(await referenceWeights());
  });

  it('refuses a limit that is not a positive integer', async () => {
    await expect(trainAdapter({ ...base(), saveTotalLimit: 0, out: await out() })).rejects.toThrow(
      'save total limit must be an integer ≥ 1, got 0',
    );
  });
});
