#!/usr/bin/env node
// The main job on the bundled tiny model, step by step, through the `mor` CLI exactly as a user would run it.
// Each step prints its command and where its output went. It grows as the engine does (see README).
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const mor = join(root, 'packages/cli/bin/mor.js');
const out = join(root, 'out', 'story');
const model = join(root, 'fixtures/tiny-llama');
const rel = (p) => relative(process.cwd(), p) || '.';

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

function step(title, args) {
  console.log(`\n== ${title}\n$ mor ${args.map((a) => (a.startsWith('/') ? rel(a) : a)).join(' ')}`);
  const r = spawnSync(process.execPath, [mor, ...args], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`story: step "${title}" failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}

step('The bundled base model', ['inspect', model]);
step('The bundled MoR adapter (validated tensor by tensor)', ['inspect', join(model, 'mor-adapter')]);
step('A PEFT LoRA adapter, read as PEFT wrote it', ['inspect', join(model, 'peft-lora')]);

console.log(`\nDone. Outputs are under ${rel(out)}/`);
