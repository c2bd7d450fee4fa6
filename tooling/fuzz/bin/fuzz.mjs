#!/usr/bin/env node
// mor fuzz harness: `node tooling/fuzz/bin/fuzz.mjs --target all --inputs 1000000`.
// Each target runs in a worker thread with a watchdog, so an input that hangs a parser is stopped and named.
// Hand-written: the runner is specific to this repository's targets and its outcome figures.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const HELP = `usage: fuzz.mjs [--target all|NAME[,NAME…]] [--inputs N] [--seed S] [--jobs J] [--limit-ms MS]
                [--out DIR] [--json] [--list]
       fuzz.mjs --target NAME --seed S --index I     replay one input (regenerated from its seed and index)
       fuzz.mjs --target NAME --replay FILE          replay a failing input written by an earlier run`;

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'all' },
    inputs: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    index: { type: 'string' },
    replay: { type: 'string' },
    jobs: { type: 'string' },
    'limit-ms': { type: 'string', default: '2000' },
    out: { type: 'string', default: fileURLToPath(new URL('../fuzz-failures/', import.meta.url)) },
    'progress-every': { type: 'string', default: '100000' },
    json: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

const lib = await import('../dist/index.js').catch((e) => {
  console.error(
    `error: cannot load the built harness (run \`npm run build -w @mor/fuzz\` first): ${e.message}`,
  );
  process.exit(2);
});
const int = (name) => {
  const v = Number(values[name]);
  if (!Number.isSafeInteger(v) || v < 0) {
    console.error(`error: --${name} must be a non-negative integer, got ${values[name]}`);
    process.exit(2);
  }
  return v;
};
if (values.list) {
  for (const t of lib.TARGETS) console.log(`${t.name.padEnd(14)} ${t.description}`);
  process.exit(0);
}

const names = values.target === 'all' ? lib.TARGETS.map((t) => t.name) : values.target.split(',');
for (const n of names) lib.findTarget(n);
const seed = int('seed');
const limitMs = int('limit-ms');

if (values.replay !== undefined || values.index !== undefined) {
  if (names.length !== 1) {
    console.error('error: a replay needs exactly one --target');
    process.exit(2);
  }
  const target = lib.findTarget(names[0]);
  const outcome =
    values.replay !== undefined
      ? await lib.replayInput(target, new Uint8Array(readFileSync(values.replay)), limitMs)
      : await replayIndex(target, int('index'));
  console.log(JSON.stringify(outcome, null, 2));
  process.exit(outcome.kind === 'failure' ? 1 : 0);
}

async function replayIndex(target, index) {
  const s = await lib.runTarget(target, {
    seed,
    start: index,
    count: 1,
    limitMs,
    outDir: values.out,
    maxRecorded: 1,
  });
  if (s.failures.length > 0) return { kind: 'failure', ...s.failures[0] };
  return s.results === 1 ? { kind: 'result' } : { kind: 'typed', name: Object.keys(s.typed)[0] };
}

const inputs = int('inputs');
const jobs = Math.max(
  1,
  values.jobs !== undefined ? int('jobs') : Math.min(names.length, availableParallelism()),
);
const log = (line) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);

/** Runs one target in a worker; a heartbeat that stops moving for limit + 10 s is a hang at that index. */
function runInWorker(name) {
  return new Promise((resolvePromise) => {
    const heartbeat = new SharedArrayBuffer(4);
    const beat = new Int32Array(heartbeat);
    Atomics.store(beat, 0, -1);
    const worker = new Worker(new URL('../dist/worker.js', import.meta.url), {
      workerData: {
        target: name,
        seed,
        count: inputs,
        limitMs,
        outDir: values.out,
        heartbeat,
        progressEvery: int('progress-every'),
      },
      // The main thread's stack (about 1 MB), so a recursion that overflows the CLI overflows here too.
      resourceLimits: { stackSizeMb: 1 },
    });
    let last = -1;
    let since = Date.now();
    let latest;
    const finish = (summary) => {
      clearInterval(watch);
      resolvePromise(summary);
    };
    /** What a target reports when its worker dies before its first progress message. */
    const emptySummary = () => ({
      target: name,
      seed,
      tried: 0,
      results: 0,
      typed: {},
      failures: [],
      failureCount: 0,
      ms: 0,
    });
    const watch = setInterval(() => {
      const now = Atomics.load(beat, 0);
      if (now !== last) {
        last = now;
        since = Date.now();
      } else if (now >= 0 && Date.now() - since > limitMs + 10_000) {
        void worker.terminate();
        const s = latest ?? emptySummary();
        s.failureCount++;
        s.failures.push({
          index: now,
          reason: 'hang',
          name: 'Timeout',
          message: `input ${now} ran over ${Math.round((Date.now() - since) / 1000)} s; the run of this target stopped there`,
          replay: `node tooling/fuzz/bin/fuzz.mjs --target ${name} --seed ${seed} --index ${now}`,
        });
        finish(s);
      }
    }, 500);
    worker.on('message', (m) => {
      latest = m.summary;
      if (m.type === 'progress') log(`  progress: ${line(m.summary)}`);
      else finish(m.summary);
    });
    worker.on('error', (e) => {
      const s = latest ?? emptySummary();
      s.failureCount++;
      s.failures.push({
        index: Atomics.load(beat, 0),
        reason: 'crash',
        name: e.name,
        message: e.message,
        stack: e.stack,
        replay: `node tooling/fuzz/bin/fuzz.mjs --target ${name} --seed ${seed} --index ${Atomics.load(beat, 0)}`,
      });
      finish(s);
    });
  });
}

/** One target's figures on one line: inputs, results, typed errors by class, uncaught. */
function line(s) {
  const typed = Object.entries(s.typed)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return (
    `${s.target.padEnd(14)} ${String(s.tried).padStart(8)} inputs  ${String(s.results).padStart(7)} results  ` +
    `typed errors: ${typed || 'none'}  ${s.failureCount} uncaught  (${(s.ms / 1000).toFixed(1)} s, seed ${s.seed})`
  );
}

const queue = [...names];
const summaries = [];
await Promise.all(
  Array.from({ length: Math.min(jobs, queue.length) }, async () => {
    while (queue.length > 0) summaries.push(await runInWorker(queue.shift()));
  }),
);
summaries.sort((a, b) => names.indexOf(a.target) - names.indexOf(b.target));

if (values.json) {
  console.log(JSON.stringify(summaries, null, 2));
} else {
  for (const s of summaries) {
    log(line(s));
    for (const f of s.failures) {
      log(`    FAIL #${f.index} ${f.reason}: ${f.name}: ${f.message}`);
      if (f.stack)
        log(
          f.stack
            .split('\n')
            .slice(1, 4)
            .map((l) => `      ${l.trim()}`)
            .join('\n'),
        );
      log(`      replay: ${f.replay}`);
    }
  }
}
process.exit(summaries.some((s) => s.failureCount > 0) ? 1 : 0);
