// One training variant of bench/train.mjs in this process (MoR or LoRA in our engine): reads the Llama the parent
// built (--model-dir), builds the adapter, a TrainSession (AdamW, on `--device`, CPU by default), runs warm-up and timed steps and prints `RESULT {json}`.
// `--method mor+lora` builds both sessions and alternates their steps (the order flips every pair), so both see
// the same machine: the median of the per-pair ratios is the steady MoR/LoRA number on a shared machine.
import { readdirSync, renameSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRng, initLoraLayer, initMorLayer, validateMorConfig } from '@mor/core';
import { createLoraAdapter, createMorAdapter } from '@mor/format';
import { TrainSession } from '@mor/engine';
import { lmBatch, median, parseTrainArgs } from './args.mjs';
import { processMemory } from './memory.mjs';
import { readTrainModel } from './model.mjs';
import { summarizeProfile } from './profile-summary.mjs';
import { PROJECTIONS, targetLinears } from '../lib/adapters.mjs';

const o = parseTrainArgs(process.argv.slice(2));
if (!o.modelDir) throw new Error('worker.mjs needs --model-dir (bench/train.mjs writes the model there)');
const built = readTrainModel(o.modelDir);
const linears = targetLinears(built);
const rng = createRng(o.seed + 1);
const alpha = 2 * o.r;

// Fresh adapters as training starts them (B = 0, ω = 1, random A and router): the step does the same work
// whatever the values are.
function morAdapter() {
  const config = validateMorConfig({
    r: o.r,
    alpha,
    experts: o.experts,
    targets: PROJECTIONS,
    ...(o.topK > 0 && { topK: o.topK }),
  });
  const layers = new Map(
    linears.map((l) => [l.module, initMorLayer({ dIn: l.dIn, dOut: l.dOut, config, rng })]),
  );
  return createMorAdapter({ config, layers });
}
function loraAdapter() {
  const layers = new Map(
    linears.map((l) => [l.module, initLoraLayer({ dIn: l.dIn, dOut: l.dOut, r: o.r, rng })]),
  );
  return createLoraAdapter({ r: o.r, alpha, targets: PROJECTIONS, layers });
}

const tokens = o.batch * o.seq;
const ids = BigInt64Array.from({ length: tokens }, () => BigInt(Math.floor(rng.uniform() * o.vocab)));
const batch = lmBatch(ids, o.batch, o.seq);

const sessionOptions = { intraOpNumThreads: o.threads, interOpNumThreads: 1, ...o.ortOptions };
let profileDir = null;
if (o.profile) {
  profileDir = resolve(o.profile);
  mkdirSync(profileDir, { recursive: true });
  Object.assign(sessionOptions, {
    enableProfiling: true,
    profileFilePrefix: join(profileDir, `train-${o.method}`),
  });
}
const before = processMemory();
/** VmRSS after each part of setup and of the run: where the memory goes (bench/README.md, phase table). */
const phases = [{ phase: 'model bytes', ms: null, rssMB: before.rssMB }];
const mark = (phase, ms = null) => phases.push({ phase, ms, rssMB: processMemory().rssMB });

async function createSession(method) {
  const t0 = performance.now();
  const session = await TrainSession.create({
    onSetupPhase: (phase, ms) => mark(phase, ms),
    model: built.onnx,
    externalDataDir: o.modelDir,
    task: 'causal-lm',
    method,
    adapter: method === 'mor' ? morAdapter() : loraAdapter(),
    optimizer: { kind: 'adamw', lr: 1e-4, weightDecay: 0.01 },
    gradientCheckpointing: o.gradientCheckpointing > 0,
    device: o.device,
    sessionOptions,
  });
  return { session, createMs: performance.now() - t0 };
}

/** One step: wall and process CPU milliseconds, and the loss. */
async function timedStep(session) {
  const t = performance.now();
  const c = process.cpuUsage();
  const { loss, skipped = false } = await session.step(batch, { lr: 1e-4 });
  const { user, system } = process.cpuUsage(c);
  return { ms: performance.now() - t, cpuMs: (user + system) / 1000, loss, skipped };
}

if (o.method === 'mor+lora') {
  const mor = await createSession('mor');
  const lora = await createSession('lora');
  built.onnx = null; // the graph's bytes (the weights never were in this process: onnxruntime maps their file)
  const pairs = [];
  for (let i = 0; i < o.warmup + o.steps; i++) {
    const order = i % 2 ? [lora, mor] : [mor, lora];
    // A pause before each step: onnxruntime's pool threads spin a little after a run, and the other session's
    // spinning threads would steal the cores from this one.
    const settled = async (s) => (await sleep(30), timedStep(s));
    const [first, second] = [await settled(order[0].session), await settled(order[1].session)];
    const [m, l] = i % 2 ? [second, first] : [first, second];
    if (i >= o.warmup) pairs.push({ mor: m, lora: l });
  }
  await mor.session.dispose();
  await lora.session.dispose();
  const ratios = pairs.map((p) => p.mor.ms / p.lora.ms).sort((a, b) => a - b);
  const q = (f) => ratios[Math.min(ratios.length - 1, Math.floor(f * ratios.length))];
  console.log(
    `RESULT ${JSON.stringify({
      method: o.method,
      morMs: median(pairs.map((p) => p.mor.ms)),
      loraMs: median(pairs.map((p) => p.lora.ms)),
      ratio: median(ratios),
      ratioQ1: q(0.25),
      ratioQ3: q(0.75),
      cpuRatio: median(pairs.map((p) => p.mor.cpuMs / p.lora.cpuMs)),
      pairs: pairs.length,
    })}`,
  );
  process.exit(0);
}

const { session, createMs } = await createSession(o.method);
built.onnx = null; // the graph's bytes (the weights never were in this process: onnxruntime maps their file)
const times = [];
const cpuTimes = [];
const losses = [];
let skippedSteps = 0; // float16 forms: steps loss scaling skipped on overflow (they cost a full step)
let rssStepsMB = 0;
for (let i = 0; i < o.warmup + o.steps; i++) {
  const step = await timedStep(session);
  if (i >= o.warmup) {
    times.push(step.ms);
    cpuTimes.push(step.cpuMs);
  }
  losses.push(step.loss);
  if (step.skipped) skippedSteps++;
  rssStepsMB = Math.max(rssStepsMB, processMemory().rssMB ?? 0);
  if (i === 0) mark('first step', step.ms);
}
mark('steady state', median(times));
await session.dispose();
const stepMs = median(times);
const result = {
  method: o.method,
  dtype: o.dtype ?? 'fp32',
  stepMs,
  cpuMs: median(cpuTimes),
  tokPerS: (tokens * 1000) / stepMs,
  createMs,
  times,
  losses,
  skippedSteps,
  peakMB: processMemory().peakMB,
  rssBeforeMB: before.rssMB,
  rssStepsMB,
  phases,
};
if (profileDir) {
  // onnxruntime writes the trace when the session is released, named <prefix>_<date>.json.
  const file = readdirSync(profileDir)
    .filter((f) => f.startsWith(`train-${o.method}_`))
    .sort()
    .at(-1);
  if (file) {
    const target = join(profileDir, `train-${o.method}.json`);
    renameSync(join(profileDir, file), target);
    result.profile = summarizeProfile(target, o.warmup);
  }
}
console.log(`RESULT ${JSON.stringify(result)}`);
