import { mkdirSync, mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectPath } from '@mor/cli';
import { MorInputError } from '@mor/engine';
import { loadTokenizer, readModelConfig, taskFromConfig, type ModelSource } from '@mor/transformers/node';
import fc from 'fast-check';
import { anyJson, editedJson } from '../json-gen.js';
import { applyMutations, mutationPlan, type Seed } from '../mutate.js';
import { fromUtf8, repoPathOf, textSeed, utf8 } from '../seeds.js';
import { defineTarget } from '../target.js';

interface TextSeeds {
  seeds: Seed[];
  objects: unknown[];
  dir: string;
}

/** A scratch model directory per worker; each input rewrites one file in it. */
function scratchDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `mor-fuzz-${name}-`));
  mkdirSync(dir, { recursive: true });
  return dir;
}

function textInputs(s: TextSeeds): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: mutationPlan.map((p) => fromUtf8(applyMutations(p, s.seeds))) },
    { weight: 3, arbitrary: editedJson(s.objects) },
    { weight: 1, arbitrary: anyJson },
  );
}

export const modelConfigTarget = defineTarget<string, TextSeeds>({
  name: 'model-config',
  description:
    'config.json: readModelConfig + taskFromConfig (@mor/transformers/node) and `mor inspect` (inspectPath)',
  allowed: [MorInputError],
  // The CLI is a program and does not export its error class; its errors are known by name.
  allowedNames: ['CliError'],
  async setup() {
    const seeds = ['fixtures/tiny-llama/config.json', 'fixtures/tiny-llama-kv/config.json'].map(textSeed);
    return {
      seeds,
      objects: seeds.map((s) => JSON.parse(fromUtf8(s.bytes)) as unknown),
      dir: scratchDir('config'),
    };
  },
  inputs: textInputs,
  async run(text, s) {
    writeFileSync(join(s.dir, 'config.json'), text);
    const source: ModelSource = { kind: 'local', dir: s.dir, id: s.dir };
    const config = await readModelConfig(source);
    taskFromConfig(config);
    return inspectPath(s.dir);
  },
  encode: (text) => utf8.encode(text),
  decode: (bytes) => fromUtf8(bytes),
  size: (text) => text.length * 3,
});

export const tokenizerTarget = defineTarget<string, TextSeeds>({
  name: 'tokenizer',
  description:
    'tokenizer.json through loadTokenizer (transformers.js AutoTokenizer, failures as MorInputError)',
  allowed: [MorInputError],
  // transformers.js' own reason is quoted inside our message; its wording is not ours to check.
  foreignMessages: true,
  async setup() {
    const seeds = [textSeed('fixtures/tiny-llama/tokenizer.json')];
    const dir = scratchDir('tokenizer');
    for (const f of ['config.json', 'tokenizer_config.json'])
      copyFileSync(repoPathOf(`fixtures/tiny-llama/${f}`), join(dir, f));
    return { seeds, objects: seeds.map((s) => JSON.parse(fromUtf8(s.bytes)) as unknown), dir };
  },
  inputs: textInputs,
  async run(text, s) {
    writeFileSync(join(s.dir, 'tokenizer.json'), text);
    const tokenizer = await loadTokenizer({ kind: 'local', dir: s.dir, id: s.dir });
    return tokenizer;
  },
  encode: (text) => utf8.encode(text),
  decode: (bytes) => fromUtf8(bytes),
  size: (text) => text.length * 3,
});
