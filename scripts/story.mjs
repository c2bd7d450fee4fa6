#!/usr/bin/env node
// The main job on the bundled tiny model, end to end, through the `mor` CLI exactly as a user would run it:
// init → train (progress bar) → eval before/after → generate with the adapter → router statistics → merge
// with a gate → export as PEFT LoRA. Every step prints its command; the end lists where everything went.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const mor = join(root, 'packages/cli/bin/mor.js');
const out = join(root, 'out', 'story');
const model = join(root, 'fixtures/tiny-llama-kv');
const train = join(root, 'examples/data/multitask.jsonl');
const evalData = join(root, 'examples/data/multitask-eval.jsonl');
const rel = (p) => relative(process.cwd(), p) || '.';
const show = (a) => (a.startsWith(root) ? rel(a) : /\s/.test(a) ? JSON.stringify(a) : a);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const init = join(out, 'init-adapter');
const trained = join(out, 'adapter');
const merged = join(out, 'merged-model');
const peft = join(out, 'peft-lora');

function step(title, args) {
  console.log(`\n== ${title}\n$ mor ${args.map(show).join(' ')}`);
  const r = spawnSync(process.execPath, [mor, ...args], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`story: step "${title}" failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}

const prompt = 'add 4 13 =';
step('The bundled base model and its adaptable layers', ['inspect', model]);
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
step('Base model loss on the held-out rows', ['eval', '--model', model, '--data', evalData]);
step('Train it (AdamW, linear schedule; eval before and after)', [
  'train',
  '--model',
  model,
  '--init',
  init,
  '--data',
  train,
  '--eval-data',
  evalData,
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
]);
step('The trained adapter', ['inspect', trained]);
step('Held-out loss with the trained adapter', [
  'eval',
  '--model',
  model,
  '--adapter',
  trained,
  '--data',
  evalData,
]);
console.log(
  '\nNote: the bundled tiny-llama-kv has random weights, so the generated text below is noise by design ' +
    '(its token ids match PyTorch exactly); the steps show the workflow, not a useful model.',
);
step('Generate without the adapter', [
  'generate',
  '--model',
  model,
  '--prompt',
  prompt,
  '--max-new-tokens',
  '6',
  '--greedy',
]);
step('Generate with the adapter (router live)', [
  'generate',
  '--model',
  model,
  '--adapter',
  trained,
  '--prompt',
  prompt,
  '--max-new-tokens',
  '6',
  '--greedy',
]);
step('Router statistics over the training data, saved as the static gate "mean"', [
  'gates',
  '--model',
  model,
  '--adapter',
  trained,
  '--data',
  train,
  '--save-as',
  'mean',
]);
step('Merge with that gate into a plain model (zero inference overhead)', [
  'merge',
  '--model',
  model,
  '--adapter',
  trained,
  '--gate',
  'mean',
  '--out',
  merged,
]);
step('The merged model generates like the adapter with the same fixed gate', [
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

console.log(`
Done. Everything is under ${rel(out)}/:
  ${rel(init)}/       the initial adapter
  ${rel(trained)}/            the trained adapter (+ training_summary.json, checkpoint-30/)
  ${rel(merged)}/     a complete transformers.js model with the adapter merged in
  ${rel(peft)}/          the same adapter as a rank-8 PEFT LoRA`);
