import { join } from 'node:path';
import { buildBertForSequenceClassification, writeModelDir } from '@mor/model-builder';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomMorAdapter, saveTo } from '../helpers/adapters.js';
import { expectOk, forward, idsFile, maxDiff, scratch } from '../helpers/logits.js';
import { runCli } from '../run-cli.js';

const TEXT = 'the movie was good';

interface Classified {
  label: string;
  scores: Record<string, number>;
}

async function classify(model: string, ...extra: string[]): Promise<Classified> {
  const r = expectOk(await runCli(['classify', '--model', model, '--text', TEXT, '--json', ...extra]));
  return JSON.parse(r.stdout) as Classified;
}

describe('BERT sequence classification with a MoR adapter on query/value', () => {
  let model: string;
  let adapter: string;
  beforeAll(async () => {
    const dir = await scratch('mor-bert-');
    const built = buildBertForSequenceClassification({
      seed: 7,
      labels: ['NEGATIVE', 'NEUTRAL', 'POSITIVE'],
    });
    model = await writeModelDir(join(dir, 'bert'), built);
    const layers = built.linears.filter((l) => /\.attention\.self\.(query|value)$/.test(l.module));
    expect(layers.length).toBeGreaterThanOrEqual(4);
    const mor = randomMorAdapter(layers, { targets: ['query', 'value'], taskType: 'SEQ_CLS', seed: 8 });
    adapter = await saveTo(join(dir, 'adapter'), mor);
  });

  it('mor classify returns one of the labels and scores that sum to 1', async () => {
    const out = await classify(model, '--adapter', adapter);
    expect(Object.keys(out.scores)).toEqual(['NEGATIVE', 'NEUTRAL', 'POSITIVE']);
    const total = Object.values(out.scores).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 6);
    const best = Object.entries(out.scores).sort(([, a], [, b]) => b - a)[0]![0];
    expect(out.label).toBe(best);
    const base = await classify(model);
    expect(Math.abs(base.scores['POSITIVE']! - out.scores['POSITIVE']!)).toBeGreaterThan(1e-5);
  });

  it('merged under a static gate == live with that gate (logits and scores)', async () => {
    const merged = join(await scratch(), 'merged');
    expectOk(
      await runCli(['merge', '--model', model, '--adapter', adapter, '--gate', 'uniform', '--out', merged]),
    );
    const ids = await idsFile([[2, 10, 11, 12, 3]]);
    const [m, live] = await Promise.all([
      forward(merged, ids),
      forward(model, ids, '--adapter', adapter, '--gate', 'uniform'),
    ]);
    expect(m.shape).toEqual([1, 3]);
    expect(maxDiff(m, live)).toBeLessThan(1e-4);
    const [cm, cl] = await Promise.all([
      classify(merged),
      classify(model, '--adapter', adapter, '--gate', 'uniform'),
    ]);
    expect(cm.label).toBe(cl.label);
    for (const k of Object.keys(cl.scores)) expect(cm.scores[k]).toBeCloseTo(cl.scores[k]!, 5);
  });
});
