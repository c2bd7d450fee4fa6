#!/usr/bin/env node
// Writes the WordNet multi-task benchmark (docs/quality.md) as JSONL files `mor train` reads:
//   node tooling/wordnet-llama/bin/tasks.mjs [--out examples/data/wordnet] [--train 1600 --dev 100 --test 200]
// train/dev/test.jsonl: prompt/completion rows with `task`, `headword` and every valid `answers`;
// cls-{train,dev,test}.jsonl: `{"text","label"}` rows (gloss → part of speech) for `--task seq-cls`;
// stats.json: rows per task and split, and how many evaluation headwords the pretraining corpus showed.
// Needs this package built (`npm run build -w tooling/wordnet-llama`). Deterministic: no seed.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  buildLexicon,
  buildTasks,
  classificationRow,
  isHeldOut,
  itemRow,
  readWordNet,
  readWordNetIndex,
  wordnetDbDictDir,
} from '../dist/index.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const { values } = parseArgs({
  options: {
    out: { type: 'string', default: `${repo}examples/data/wordnet` },
    train: { type: 'string', default: '1600' },
    dev: { type: 'string', default: '100' },
    test: { type: 'string', default: '200' },
  },
});
const perTask = { train: Number(values.train), dev: Number(values.dev), test: Number(values.test) };
for (const [k, v] of Object.entries(perTask))
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer, got ${values[k]}`);

const dict = wordnetDbDictDir();
const lex = buildLexicon(readWordNet(dict), readWordNetIndex(dict));
const { items, classification } = buildTasks(lex, { perTask });

function writeAtomic(file, text) {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}
const jsonl = (rows) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');

mkdirSync(values.out, { recursive: true });
const stats = { splits: {}, pretraining: {} };
for (const split of ['train', 'dev', 'test']) {
  writeAtomic(join(values.out, `${split}.jsonl`), jsonl(items[split].map(itemRow)));
  writeAtomic(join(values.out, `cls-${split}.jsonl`), jsonl(classification[split].map(classificationRow)));
  const perTaskCount = {};
  for (const it of items[split]) perTaskCount[it.task] = (perTaskCount[it.task] ?? 0) + 1;
  stats.splits[split] = { ...perTaskCount, 'gloss-pos': classification[split].length };
  if (split === 'train') continue;
  // Was the headword's text in the pretraining corpus? Its senses' synsets are pretraining documents unless
  // the corpus' 2 % hash split held them out.
  const words = [...new Set(items[split].map((i) => i.headword))];
  const seen = words.filter((w) => (lex.senses.get(w) ?? []).some((s) => !isHeldOut(s.synset)));
  stats.pretraining[split] = { headwords: words.length, with_a_sense_in_pretraining: seen.length };
}
writeAtomic(join(values.out, 'stats.json'), `${JSON.stringify(stats, null, 2)}\n`);
console.log(JSON.stringify(stats));
