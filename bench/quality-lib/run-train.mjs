// Runs `mor train` (the CLI: the stable interface while the packages are being split) in a child process and
// times it; probes whether a method exists.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MOR = fileURLToPath(new URL('../../packages/cli/bin/mor.js', import.meta.url));

function mor(args) {
  const t0 = performance.now();
  const res = spawnSync(process.execPath, [MOR, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t0) / 1000;
  return { ...res, seconds };
}

/** Trains; returns wall seconds. A failure throws with the command and the end of its stderr. */
export function train({ model, data, out, flags, lr, steps, batchSize, warmup, seed }) {
  const args = ['train', '--model', model, '--data', data, '--out', out, ...flags, '--lr', String(lr)];
  args.push(
    '--max-steps',
    String(steps),
    '--batch-size',
    String(batchSize),
    '--warmup-steps',
    String(warmup),
  );
  args.push('--seed', String(seed), '--json');
  const res = mor(args);
  if (res.status !== 0)
    throw new Error(`mor ${args.join(' ')} failed (${res.status}):\n${(res.stderr ?? '').slice(-2000)}`);
  return res.seconds;
}

/** Trainable parameters of an adapter directory, as `mor inspect` counts them. */
export function adapterParams(dir) {
  const res = mor(['inspect', dir, '--json']);
  if (res.status !== 0) throw new Error(`mor inspect ${dir} failed:\n${res.stderr}`);
  const n = JSON.parse(res.stdout).trainable_parameters;
  if (!Number.isInteger(n)) throw new Error(`mor inspect ${dir}: no trainable_parameters`);
  return n;
}

/**
 * Whether `mor train` takes `--method NAME`: it is asked to train with that method on a data file that does not
 * exist, so it fails either on the method (unknown) or later, on the file (known). Returns null when the method
 * exists, else the CLI's one-line reason.
 */
export function methodUnavailable(name) {
  const res = mor([
    'train',
    '--method',
    name,
    '--model',
    '/nonexistent',
    '--data',
    '/nonexistent',
    '--out',
    '/nonexistent',
  ]);
  const err = (res.stderr ?? '').trim().split('\n').pop() ?? '';
  return /--method|method/i.test(err) && !/nonexistent/.test(err) ? err : null;
}
