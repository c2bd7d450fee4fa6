#!/usr/bin/env node
// The main job on the WordNet-pretrained base (models/wordnet-llama) and the WordNet tasks
// (examples/data/wordnet), end to end, through the `mor` CLI exactly as a user would run it:
// inspect → init → train (eval before/after) → answers on held-out prompts without and with the adapter →
// router statistics per task → merge with a gate → export as PEFT LoRA. Every step prints its command; the end
// lists where everything went, and out/story/story-summary.json holds the numbers the story printed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isCorrect, normalizeAnswer } from '@mor/wordnet-llama';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const mor = join(root, 'packages/cli/bin/mor.js');
const out = join(root, 'out', 'story');
const model = join(root, 'models/wordnet-llama');
const wordnet = join(root, 'examples/data/wordnet');
const train = join(wordnet, 'train.jsonl');
const rel = (p) => relative(process.cwd(), p) || '.';
const show = (a) => (a.startsWith(root) ? rel(a) : /\s/.test(a) ? JSON.stringify(a) : a);

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'data'), { recursive: true });
const init = join(out, 'init-adapter');
const trained = join(out, 'adapter');
const merged = join(out, 'merged-model');
const peft = join(out, 'peft-lora');

// Held-out rows: the first EVAL_PER_TASK dev rows of each task (dev headwords never occur in train rows).
const EVAL_PER_TASK = 20;
const SHOWN_PER_TASK = 2;
const jsonl = (rows) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
const dev = readFileSync(join(wordnet, 'dev.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l));
const byTask = new Map();
for (const r of dev) {
  const rows = byTask.get(r.task) ?? [];
  if (rows.length < EVAL_PER_TASK) rows.push(r);
  byTask.set(r.task, rows);
}
const heldOut = [...byTask.values()].flat();
const heldOutFile = join(out, 'data', 'held-out.jsonl');
writeFileSync(heldOutFile, jsonl(heldOut));
const taskFiles = new Map();
for (const [task, rows] of byTask) {
  const f = join(out, 'data', `held-out-${task}.jsonl`);
  writeFileSync(f, jsonl(rows));
  taskFiles.set(task, f);
}

function step(title, args, { capture = false } = {}) {
  console.log(`\n== ${title}\n$ mor ${args.map(show).join(' ')}`);
  const r = spawnSync(process.execPath, [mor, ...args], {
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit', // captured: JSON on stdout, progress kept quiet
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) {
    if (capture) process.stderr.write(r.stderr);
    console.error(`story: step "${title}" failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
  return capture ? JSON.parse(r.stdout) : undefined;
}

/** Greedy answers to every held-out prompt (first line of 6 new tokens), scored per task. */
function answers(title, adapterArgs) {
  const args = ['generate', '--model', model, ...adapterArgs, '--prompts', heldOutFile];
  const r = step(title, [...args, '--greedy', '--max-new-tokens', '6', '--json'], { capture: true });
  return r.generations.map((g, i) => {
    const row = heldOut[i];
    return {
      task: row.task,
      prompt: g.prompt,
      answers: row.answers,
      text: g.text,
      correct: isCorrect(g.text, row.answers),
    };
  });
}

step('The WordNet-pretrained base model and its adaptable layers', ['inspect', model]);
step('A fresh MoR adapter: 4 rank experts sharing one rank-8 pair, on the MLP and attention projections', [
  'init',
  '--model',
  model,
  '--out',
  init,
  '--rank',
  '8',
  '--experts',
  '4',
  '--seed',
  '1',
  '--targets',
  'q_proj,v_proj,gate_proj,up_proj,down_proj',
]);
step(
  `Train it on the five WordNet tasks (AdamW, linear schedule; loss on ${heldOut.length} held-out rows before and after)`,
  [
    'train',
    '--model',
    model,
    '--init',
    init,
    '--data',
    train,
    '--eval-data',
    heldOutFile,
    '--out',
    trained,
    '--lr',
    '0.01',
    '--batch-size',
    '8',
    '--max-steps',
    '60',
    '--save-every',
    '30',
    '--seed',
    '1',
  ],
);
step('The trained adapter', ['inspect', trained]);
const before = answers('Answers of the base model to the held-out prompts', []);
const after = answers('Answers with the trained adapter (router live)', ['--adapter', trained]);

const cell = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));
const answer = (t) => JSON.stringify(normalizeAnswer(t));
console.log(`\nHeld-out prompts (${SHOWN_PER_TASK} a task; ✓ = one of the valid answers):`);
console.log(`${cell('prompt', 44)} ${cell('expected', 18)} ${cell('base', 22)} with the adapter`);
for (const task of byTask.keys()) {
  const idx = heldOut.flatMap((r, i) => (r.task === task ? [i] : [])).slice(0, SHOWN_PER_TASK);
  for (const i of idx) {
    const [b, a] = [before[i], after[i]];
    const mark = (x) => `${x.correct ? '✓' : ' '} ${answer(x.text)}`;
    console.log(`${cell(b.prompt, 44)} ${cell(b.answers[0], 18)} ${cell(mark(b), 22)} ${mark(a)}`);
  }
}
const score = (rows, task) => rows.filter((r) => r.task === task && r.correct).length;
const changed = before.filter((b, i) => normalizeAnswer(b.text) !== normalizeAnswer(after[i].text)).length;
console.log(`\nExact match on ${EVAL_PER_TASK} held-out prompts a task (base → adapter):`);
for (const task of byTask.keys())
  console.log(
    `  ${cell(task, 16)} ${score(before, task)}/${EVAL_PER_TASK} → ${score(after, task)}/${EVAL_PER_TASK}`,
  );
console.log(`  the adapter changed ${changed} of ${heldOut.length} answers`);

const gates = {};
for (const [task, file] of taskFiles)
  gates[task] = step(
    `Router statistics on the held-out ${task} rows`,
    ['gates', '--model', model, '--adapter', trained, '--data', file, '--json'],
    { capture: true },
  ).overall;
console.log('\nMean router gate per task (experts 1–4, all adapted layers):');
for (const [task, g] of Object.entries(gates))
  console.log(`  ${cell(task, 16)} [${g.map((v) => v.toFixed(3)).join(', ')}]`);

step('Router statistics over all the held-out rows, saved as the static gate "mean"', [
  'gates',
  '--model',
  model,
  '--adapter',
  trained,
  '--data',
  heldOutFile,
  '--save-as',
  'mean',
]);
// --dtype fp32: merge into onnx/model.onnx only (the 4-bit onnx/model_q4.onnx would need requantizing).
step('Merge with that gate into a plain model (zero inference overhead)', [
  'merge',
  '--model',
  model,
  '--adapter',
  trained,
  '--gate',
  'mean',
  '--dtype',
  'fp32',
  '--out',
  merged,
]);
const prompt = heldOut[0].prompt;
step('The merged model answers like the adapter with the same fixed gate', [
  'generate',
  '--model',
  merged,
  '--prompt',
  prompt,
  '--max-new-tokens',
  '6',
  '--greedy',
]);
step('Export the gated adapter as an exact PEFT LoRA', [
  'export',
  '--adapter',
  trained,
  '--to',
  'peft-lora',
  '--gate',
  'mean',
  '--out',
  peft,
]);

const summary = {
  heldOutRows: heldOut.length,
  tasks: Object.fromEntries(
    [...byTask.keys()].map((t) => [
      t,
      { base: score(before, t), adapter: score(after, t), of: EVAL_PER_TASK },
    ]),
  ),
  changedAnswers: changed,
  answers: heldOut.map((r, i) => ({
    task: r.task,
    prompt: r.prompt,
    base: before[i].text,
    adapter: after[i].text,
  })),
  gates,
};
const summaryFile = join(out, 'story-summary.json');
writeFileSync(`${summaryFile}.tmp`, `${JSON.stringify(summary, null, 2)}\n`);
renameSync(`${summaryFile}.tmp`, summaryFile);

console.log(`
Done. Everything is under ${rel(out)}/:
  ${rel(init)}/       the initial adapter
  ${rel(trained)}/            the trained adapter (+ training_summary.json, checkpoint-30/)
  ${rel(merged)}/     a complete transformers.js model with the adapter merged in
  ${rel(peft)}/          the same adapter as a rank-8 PEFT LoRA
  ${rel(join(out, 'data'))}/               the held-out rows (all tasks, and one file a task)
  ${rel(summaryFile)}  answers before/after, exact match and mean gate per task`);
