#!/usr/bin/env node
// Pretrains models/wordnet-llama from scratch: `npm run pretrain -w tooling/wordnet-llama -- [--steps N] …`.
// Defaults are the committed model's recipe. Needs `npm run build` (this package's dist and its dependencies).
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { pretrain } from '../dist/index.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const { values } = parseArgs({
  options: {
    out: { type: 'string', default: `${repo}models/wordnet-llama` },
    log: { type: 'string', default: `${repo}models/wordnet-llama/pretrain-log.jsonl` },
    steps: { type: 'string', default: '3200' },
    'batch-size': { type: 'string', default: '8' },
    'seq-length': { type: 'string', default: '128' },
    lr: { type: 'string', default: '2e-3' },
    seed: { type: 'string', default: '0' },
    'eval-every': { type: 'string', default: '250' },
    'save-every': { type: 'string', default: '500' },
  },
});
const result = await pretrain({
  out: values.out,
  logFile: values.log,
  steps: Number(values.steps),
  batchSize: Number(values['batch-size']),
  seqLength: Number(values['seq-length']),
  lr: Number(values.lr),
  seed: Number(values.seed),
  evalEvery: Number(values['eval-every']),
  saveEvery: Number(values['save-every']),
});
console.log(JSON.stringify(result, null, 2));
