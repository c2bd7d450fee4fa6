#!/usr/bin/env node
// Greedy generations of a WordNet Llama for the model card: `node tooling/wordnet-llama/bin/samples.mjs [DIR]`.
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';

const dir = resolve(
  process.argv[2] ?? fileURLToPath(new URL('../../../models/wordnet-llama', import.meta.url)),
);
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = `${dirname(dir)}/`;
const tokenizer = await AutoTokenizer.from_pretrained(basename(dir));
const model = await AutoModelForCausalLM.from_pretrained(basename(dir), { dtype: 'fp32' });
const prompts = [
  'dog (noun):',
  'dead (adjective):',
  'run (verb):',
  'quickly (adverb):',
  'happy (adjective):',
  'a small',
  'the water',
];
for (const prompt of prompts) {
  const enc = tokenizer(prompt);
  const out = await model.generate({ ...enc, max_new_tokens: 24, do_sample: false });
  const ids = out.tolist()[0].map(Number).slice(enc.input_ids.dims[1]);
  const text = tokenizer.decode(ids, { skip_special_tokens: true });
  console.log(`| \`${prompt}\` | ${JSON.stringify(text).slice(1, -1).replace(/\|/g, '\\|')} |`);
}
await model.dispose();
