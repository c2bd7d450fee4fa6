// Scores a trained model in a child process (score-worker.mjs), so each model's memory is freed with it.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./score-worker.mjs', import.meta.url));

/** Greedy-decodes and scores `data` (the first `limitPerTask` rows of each task); with `gates`, router gates too. */
export function score({ work, name, model, adapter, data, limitPerTask, maxNewTokens, gates }) {
  const jobFile = join(work, `${name}.job.json`);
  const out = join(work, `${name}.score.json`);
  const job = { model, data, maxNewTokens, out, gates: Boolean(gates) };
  if (adapter) job.adapter = adapter;
  if (limitPerTask) job.limitPerTask = limitPerTask;
  writeFileSync(jobFile, JSON.stringify(job));
  const res = spawnSync(process.execPath, [WORKER, jobFile], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (res.status !== 0)
    throw new Error(`scoring ${name} failed (${res.status}):\n${(res.stderr ?? '').slice(-2000)}`);
  return JSON.parse(readFileSync(out, 'utf8'));
}
