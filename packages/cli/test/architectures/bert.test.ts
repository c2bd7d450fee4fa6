import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AutoTokenizer } from '@huggingface/transformers';
import type { MorAdapter } from '@mor/format';
import { loadAdapter } from '@mor/format/node';
import { buildBertForSequenceClassification, writeModelDir } from '@mor/model-builder';
import { TrainSession } from '@mor/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomMorAdapter, saveTo } from '../helpers/adapters.js';
import { expectOk, forward, idsFile, maxDiff, scratch } from '../helpers/logits.js';
import { ONE_SGD_STEP, runCli } from '../run-cli.js';

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
  let topK: MorAdapter;
  let topKDir: string;
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
    topK = randomMorAdapter(layers, {
      targets: ['query', 'value'],
      taskType: 'SEQ_CLS',
      seed: 9,
      topK: 2,
      routerBias: true,
    });
    topKDir = await saveTo(join(dir, 'adapter-top2'), topK);
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

  // The acceptance for classifiers: `mor train --task seq-cls --max-length 10` from text+label rows, top-k
  // routing with a router bias. The expected adapter is built here independently of the trainer's data pipeline:
  // transformers.js tokenizes with truncation to 10 (keeping [CLS]/[SEP]), rows are padded by hand, labels mapped
  // through the config's label2id, and one TrainSession step (whose gradients tests/train/seq-cls-topk checks by
  // finite differences) gives init − lr·g.
  it('mor train --task seq-cls --max-length 10 (top-2 + router bias): one SGD step on text+label rows', async () => {
    const dir = await scratch('mor-bert-train-');
    const rows = [
      { text: 'the movie was good and the actors were good and the story was good too', label: 'POSITIVE' },
      { text: 'the movie was bad', label: 'NEGATIVE' },
    ];
    const data = join(dir, 'rows.jsonl');
    await writeFile(data, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const train = (out: string, ...extra: string[]) =>
      runCli(
        [
          'train',
          '--model',
          model,
          '--init',
          topKDir,
          '--data',
          data,
          '--task',
          'seq-cls',
          '--max-length',
          '10',
        ]
          .concat(ONE_SGD_STEP)
          .concat(['--out', out, ...extra]),
      );
    expectOk(await train(join(dir, 'cpu')));
    const got = await loadAdapter(join(dir, 'cpu'));

    const tokenizer = await AutoTokenizer.from_pretrained(model);
    const config = JSON.parse(await readFile(join(model, 'config.json'), 'utf8')) as {
      label2id: Record<string, number>;
      pad_token_id?: number;
    };
    // Python transformers truncates the text and keeps [CLS] … [SEP]; transformers.js' own truncation cuts the
    // [SEP] off, so the reference truncates by hand.
    const full = rows.map((r) => {
      const { input_ids } = tokenizer(r.text) as { input_ids: { tolist(): bigint[][] } };
      return input_ids.tolist()[0]!.map(Number);
    });
    expect(full[0]!.length).toBeGreaterThan(10);
    const encoded = full.map((e) => (e.length > 10 ? [...e.slice(0, 9), e.at(-1)!] : e));
    const T = Math.max(...encoded.map((e) => e.length));
    const pad = config.pad_token_id ?? 0;
    const ids = new BigInt64Array(rows.length * T).fill(BigInt(pad));
    const mask = new BigInt64Array(rows.length * T);
    encoded.forEach((e, b) =>
      e.forEach((id, t) => {
        ids[b * T + t] = BigInt(id);
        mask[b * T + t] = 1n;
      }),
    );
    const session = await TrainSession.create({
      model: new Uint8Array(await readFile(join(model, 'onnx', 'model.onnx'))),
      task: 'seq-cls',
      method: 'mor',
      adapter: topK,
      optimizer: { kind: 'sgd', lr: 0.05 },
    });
    const labels = BigInt64Array.from(rows.map((r) => BigInt(config.label2id[r.label]!)));
    await session.step(
      { inputIds: ids, attentionMask: mask, labels, batchSize: rows.length, seqLength: T },
      { lr: 0.05 },
    );
    const want = await session.getAdapter();
    await session.dispose();
    const diff = (a: MorAdapter, b: MorAdapter) => {
      let max = 0;
      for (const [module, w] of b.layers)
        for (const k of ['A', 'B', 'omegaA', 'omegaB', 'routerWeight', 'routerBias'] as const) {
          const x = a.layers.get(module)![k]!;
          w[k]!.forEach((v, i) => (max = Math.max(max, Math.abs(v - x[i]!))));
        }
      return max;
    };
    if (got.kind !== 'mor' || want.kind !== 'mor') throw new Error('expected MoR adapters');
    expect(got.config.topK).toBe(2);
    expect(diff(got, want)).toBeLessThan(1e-6);
    expect(diff(got, topK)).toBeGreaterThan(1e-4); // it did train

    // WebGPU (Dawn through SwiftShader here) gives the same step within 1e-3.
    const icd = process.env['VK_ICD_FILENAMES'];
    if (icd && existsSync(icd)) {
      expectOk(await train(join(dir, 'webgpu'), '--device', 'webgpu'));
      const onGpu = await loadAdapter(join(dir, 'webgpu'));
      if (onGpu.kind !== 'mor') throw new Error('expected a MoR adapter');
      expect(diff(onGpu, want)).toBeLessThan(1e-3);
    }
  }, 300_000);
});
