#!/usr/bin/env node
// Writes held-out WordNet documents (synsets the pretraining never saw) as `{"text": …}` JSON lines for
// `mor eval`: `node tooling/wordnet-llama/bin/held-out.mjs [--limit N] [--out FILE]`. Needs this package built.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildCorpus, readWordNet, wordnetDbDictDir } from '../dist/index.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const { values } = parseArgs({
  options: {
    out: { type: 'string', default: `${repo}models/wordnet-llama/held-out.jsonl` },
    limit: { type: 'string', default: '500' },
    seed: { type: 'string', default: '0' },
  },
});
const docs = buildCorpus(readWordNet(wordnetDbDictDir()), { seed: Number(values.seed) })
  .filter((d) => d.heldOut)
  .slice(0, Number(values.limit));
writeFileSync(values.out, docs.map((d) => `${JSON.stringify({ text: d.text })}\n`).join(''));
console.log(`${docs.length} held-out documents → ${values.out}`);
