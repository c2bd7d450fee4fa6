import { TrainDataError, parseJsonlRows } from '@mor/trainer';
import fc from 'fast-check';
import { anyJson, editedJson, hostileValue, writeJson } from '../json-gen.js';
import { applyMutations, mutationPlan, type Seed } from '../mutate.js';
import { fromUtf8, textSeed, utf8 } from '../seeds.js';
import { defineTarget } from '../target.js';

interface JsonlSeeds {
  files: Seed[];
  rows: unknown[];
}

/** One row of each kind docs/cli.md lists, for the structure-aware edits. */
const ROW_KINDS: unknown[] = [
  { text: 'The French word for yellow is jaune.' },
  { prompt: 'add 4 13 =', completion: ' 17' },
  {
    messages: [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
    ],
  },
  { input_ids: [1, 5, 9, 2], labels: [-100, 5, 9, 2] },
  { text: 'great film', label: 'positive' },
  { input_ids: [1, 7], label: 1 },
];

const lineEnd = fc.constantFrom('\n', '\r\n', '\n\n', '\r', '\u2028', '');

export const jsonlTarget = defineTarget<string, JsonlSeeds>({
  name: 'jsonl',
  description: 'training data: parseJsonlRows (@mor/trainer) on mutated example files and generated rows',
  allowed: [TrainDataError],
  async setup() {
    const files = ['examples/data/multitask.jsonl', 'examples/data/multitask-eval.jsonl'].map(textSeed);
    const rows = files.flatMap((f) =>
      fromUtf8(f.bytes)
        .split('\n')
        .filter((l) => l.trim() !== '')
        .slice(0, 40)
        .map((l) => JSON.parse(l) as unknown),
    );
    return { files, rows: [...ROW_KINDS, ...rows] };
  },
  inputs: (s) => {
    const line = fc.oneof(
      { weight: 4, arbitrary: editedJson(s.rows) },
      { weight: 2, arbitrary: fc.nat(s.rows.length - 1).map((i) => JSON.stringify(s.rows[i])) },
      { weight: 1, arbitrary: anyJson },
      { weight: 1, arbitrary: hostileValue.map(writeJson) },
    );
    return fc.oneof(
      { weight: 2, arbitrary: mutationPlan.map((p) => fromUtf8(applyMutations(p, s.files))) },
      {
        weight: 3,
        arbitrary: fc
          .array(fc.tuple(line, lineEnd), { minLength: 1, maxLength: 6 })
          .map((ls) => ls.map(([l, e]) => l + e).join('')),
      },
    );
  },
  run: (text) => parseJsonlRows(text, 'fuzz.jsonl'),
  encode: (text) => utf8.encode(text),
  decode: (bytes) => fromUtf8(bytes),
  size: (text) => text.length * 3,
});
