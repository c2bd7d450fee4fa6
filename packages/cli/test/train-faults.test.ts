// Faults a real `mor train` process meets: a SIGKILL mid-run (then --resume), a second run into the same --out,
// a Ctrl-C. Each runs the built binary in a child process and sends it real signals.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, runCli } from './run-cli.js';

const bin = fileURLToPath(new URL('../bin/mor.js', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../examples/data/', import.meta.url));
const LOCK = '.mor-train.lock';
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function scratch(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mor-train-faults-'));
  dirs.push(d);
  return d;
}

/** A short AdamW run on the tiny fixture model: `steps` steps of 4 rows, shuffled with a seed. */
const run = (steps: number, out: string, extra: string[] = []) => [
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
  '3',
  '--max-steps',
  String(steps),
  '--out',
  out,
  ...extra,
];

interface Child {
  pid: number;
  kill: (signal: NodeJS.Signals) => void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Starts `mor ARGS` as a child process (node running the binary directly, so signals reach it). */
function start(args: string[]): Child {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((done) =>
    child.on('exit', (code, signal) => done({ code, signal, stderr })),
  );
  return { pid: child.pid!, kill: (s) => child.kill(s), exited };
}

/** Waits until `path` exists (polling), failing after `ms`. */
async function appears(path: string, ms = 20_000): Promise<void> {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(10)) {
    if (await stat(path).catch(() => null)) return;
  }
  throw new Error(`${path} did not appear within ${ms} ms`);
}

const steps = (names: string[]) =>
  names.filter((n) => /^checkpoint-\d+$/.test(n)).map((n) => Number(n.slice('checkpoint-'.length)));

describe('mor train under faults', () => {
  it('killed with SIGKILL after a checkpoint, --resume gives the uninterrupted run’s adapter byte for byte', async () => {
    const dir = await scratch();
    const [straight, killed] = [join(dir, 'straight'), join(dir, 'killed')];
    const STEPS = 120;
    const reference = runCli(run(STEPS, straight));
    const victim = start(run(STEPS, killed, ['--save-every', '1']));
    await appears(join(killed, 'checkpoint-2'));
    victim.kill('SIGKILL');
    const end = await victim.exited;
    expect(end.signal).toBe('SIGKILL');
    const left = await readdir(killed);
    expect(left).not.toContain('adapter_model.safetensors'); // it really died mid-run
    const last = Math.max(...steps(left));
    expect(last).toBeGreaterThanOrEqual(2);
    expect(last).toBeLessThan(STEPS);
    // The killed run could not remove its lock: the resumed run takes it over, saying so.
    expect(JSON.parse(await readFile(join(killed, LOCK), 'utf8')).pid).toBe(victim.pid);
    const resumed = await runCli(run(STEPS, killed, ['--resume', join(killed, `checkpoint-${last}`)]));
    expect(resumed.stderr).not.toMatch(/^error/m);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`took over ${join(killed, LOCK)}: its holder, PID ${victim.pid}`);
    expect(resumed.stderr).toContain(`resumed from ${join(killed, `checkpoint-${last}`)} at step ${last}`);
    expect((await reference).code).toBe(0);
    for (const f of ['adapter_model.safetensors', 'adapter_config.json'])
      expect(await readFile(join(killed, f)), f).toEqual(await readFile(join(straight, f)));
    expect(await readdir(killed)).not.toContain(LOCK);
  });

  it('a second run into the same --out is refused naming the lock and its PID; Ctrl-C removes the lock', async () => {
    const out = join(await scratch(), 'out');
    const first = start(run(5000, out));
    await appears(join(out, LOCK));
    const second = await runCli(run(2, out));
    expect(second.code).not.toBe(0);
    expect(second.stderr.trim()).toBe(
      `error: ${join(out, LOCK)} is held by PID ${first.pid}: another mor train run is writing to this directory ` +
        '(if that run is gone, remove the lock file)',
    );
    expect(await readdir(out)).toEqual([LOCK]); // the refused run wrote nothing
    first.kill('SIGINT');
    const end = await first.exited;
    expect(end.signal).toBe('SIGINT'); // ended by the signal, as without a handler
    expect(await readdir(out)).toEqual([]);
  });

  it('a run that fails removes its lock (and the --out it created)', async () => {
    const dir = await scratch();
    const data = join(dir, 'bad.jsonl');
    await writeFile(data, '{"text": "fine"}\n{"text": 3}\n');
    const out = join(dir, 'a', 'b');
    const r = await runCli([...run(2, out), '--data', data]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/bad\.jsonl:2: /);
    expect(await readdir(dir)).toEqual(['bad.jsonl']);
  });
});
