import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOk, forward, idsFile, maxDiff, scratch } from './helpers/logits.js';
import { fixture, runCli } from './run-cli.js';

interface Stats {
  layers: Record<string, number[]>;
  overall: number[];
  rows: number;
  tokens: number;
  saved_as: string | null;
}

describe('mor gates: router statistics over a data set', () => {
  it('reports the mean gate per layer and overall (each sums to 1), saves it, and --gate NAME uses it', async () => {
    const adapter = join(await scratch(), 'adapter');
    await cp(fixture('tiny-llama/mor-adapter'), adapter, { recursive: true });
    const data = join(await scratch(), 'data.jsonl');
    await writeFile(
      data,
      [
        '{"text": "The small dog runs."}',
        '',
        '{"prompt": "A cat", "completion": " sleeps."}',
        '{"input_ids": [1, 54, 74, 71, 259]}',
      ].join('\n'),
    );
    const model = fixture('tiny-llama');
    const r = expectOk(
      await runCli([
        'gates',
        '--model',
        model,
        '--adapter',
        adapter,
        '--data',
        data,
        '--save-as',
        'mean',
        '--json',
      ]),
    );
    const stats = JSON.parse(r.stdout) as Stats;
    expect(stats.rows).toBe(3);
    expect(Object.keys(stats.layers)).toHaveLength(6);
    for (const g of [...Object.values(stats.layers), stats.overall]) {
      expect(g).toHaveLength(4);
      expect(g.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    const layerMean = [0, 1, 2, 3].map((i) => Object.values(stats.layers).reduce((s, g) => s + g[i]!, 0) / 6);
    layerMean.forEach((m, i) => expect(stats.overall[i]).toBeCloseTo(m, 10));
    const config = JSON.parse(await readFile(join(adapter, 'adapter_config.json'), 'utf8'));
    expect(config.static_gates.mean).toEqual(stats.overall);
    expect(config.peft_type).toBe('MOR'); // the rest of the config is kept
    const ids = await idsFile([[1, 54, 74, 71, 259, 79]]);
    const [named, explicit] = await Promise.all([
      forward(model, ids, '--adapter', adapter, '--gate', 'mean'),
      forward(model, ids, '--adapter', adapter, '--gate', JSON.stringify(stats.overall)),
    ]);
    expect(maxDiff(named, explicit)).toBe(0);
  });

  it('a malformed data row fails naming the file and line', async () => {
    const data = join(await scratch(), 'bad.jsonl');
    await writeFile(data, '{"text": "ok"}\n{"nope": 1}\n');
    const r = await runCli([
      'gates',
      '--model',
      fixture('tiny-llama'),
      '--adapter',
      fixture('tiny-llama/mor-adapter'),
      '--data',
      data,
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^error: .*bad\.jsonl:2: /);
  });
});
