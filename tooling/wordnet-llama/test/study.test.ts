import { describe, expect, it } from 'vitest';
import { loraParamCount, totalMorParamCount } from '@mor/core';
import {
  QualitySchemaError,
  checkQualityReport,
  entropy,
  heatmapSvg,
  matchedLoraRank,
  meanStd,
  mutualInformation,
  resultsTable,
  scatterSvg,
  summarizeResults,
  type TimedResult,
} from '../src/index.js';

describe('mutual information between task and top expert', () => {
  it('is 0 for a router that ignores the task, log2(k) for one expert per task', () => {
    expect(
      mutualInformation([
        [10, 30],
        [5, 15],
      ]),
    ).toBeCloseTo(0, 12);
    expect(
      mutualInformation([
        [7, 0, 0],
        [0, 7, 0],
        [0, 0, 7],
      ]),
    ).toBeCloseTo(Math.log2(3), 12);
  });

  it('matches a hand computation, and the identity I = H(E) − H(E|T)', () => {
    // p(t,e) = [[.4, .1], [.1, .4]]: I = 2·.4·log2(.4/.25) + 2·.1·log2(.1/.25)
    const hand = 0.8 * Math.log2(1.6) + 0.2 * Math.log2(0.4);
    const counts = [
      [40, 10],
      [10, 40],
    ];
    expect(mutualInformation(counts)).toBeCloseTo(hand, 12);
    const hCond = 0.5 * entropy([40, 10]) + 0.5 * entropy([10, 40]);
    expect(mutualInformation(counts)).toBeCloseTo(entropy([50, 50]) - hCond, 12);
  });

  it('refuses empty and ragged tables', () => {
    expect(() => mutualInformation([[0, 0]])).toThrow(/empty/);
    expect(() => mutualInformation([[1, 2], [3]])).toThrow(/differ in length/);
  });
});

const run = (
  method: TimedResult['method'],
  seed: number,
  a: number,
  b: number,
  params = 100,
): TimedResult => ({
  method,
  seed,
  trainable_params: params,
  accuracy: { antonym: a, synonym: b },
  mean_accuracy: (a + b) / 2,
  train_seconds: 10 + seed,
});

describe('aggregation and table', () => {
  it('mean and sample std per method and task', () => {
    expect(meanStd([1, 2, 3])).toEqual({ mean: 2, std: 1 });
    expect(meanStd([0.5])).toEqual({ mean: 0.5, std: 0 });
    const s = summarizeResults(
      [run('lora', 0, 0.2, 0.4), run('mor', 0, 0.5, 0.5, 200), run('lora', 1, 0.4, 0.6)],
      ['antonym', 'synonym'],
    );
    expect(s.map((x) => x.method)).toEqual(['lora', 'mor']);
    expect(s[0]!.seeds).toEqual([0, 1]);
    expect(s[0]!.accuracy['antonym']!.mean).toBeCloseTo(0.3, 12);
    expect(s[0]!.accuracy['antonym']!.std).toBeCloseTo(Math.SQRT2 * 0.1, 12);
    expect(s[0]!.mean_accuracy.mean).toBeCloseTo(0.4, 12);
    const table = resultsTable(s, ['antonym', 'synonym']);
    expect(table.split('\n')[2]).toBe(
      '| lora | 2 | 100 | 30.0 ± 14.1 | 50.0 ± 14.1 | **40.0 ± 14.1** | 11 |',
    );
  });

  it('refuses runs of one method with different parameter counts', () => {
    expect(() => summarizeResults([run('lora', 0, 0, 0, 1), run('lora', 1, 0, 0, 2)], ['antonym'])).toThrow(
      /lora: runs differ/,
    );
  });
});

describe('the --json schema', () => {
  const good = {
    base_model: 'models/wordnet-llama',
    tasks: ['antonym', 'synonym'],
    results: [
      {
        method: 'mor',
        seed: 0,
        trainable_params: 5,
        accuracy: { antonym: 0.5, synonym: 0 },
        mean_accuracy: 0.25,
      },
    ],
  };
  it('accepts a well-formed report', () => {
    expect(checkQualityReport(good)).toBe(good);
  });
  it.each([
    [{ ...good, extra: 1 }, /keys are/],
    [{ ...good, results: [{ ...good.results[0], method: 'dora' }] }, /method "dora" is not one of/],
    [{ ...good, results: [{ ...good.results[0], mean_accuracy: 0.3 }] }, /mean of its task accuracies/],
    [{ ...good, results: [{ ...good.results[0], accuracy: { antonym: 0.5 } }] }, /exactly the tasks/],
    [{ ...good, results: [{ ...good.results[0], accuracy: { antonym: 1.5, synonym: 0 } }] }, /in \[0, 1\]/],
    [{ ...good, results: [{ ...good.results[0], trainable_params: 0 }] }, /positive integer/],
  ])('refuses %#', (doc, why) => {
    expect(() => checkQualityReport(doc)).toThrow(QualitySchemaError);
    expect(() => checkQualityReport(doc)).toThrow(why);
  });
});

describe('matched LoRA rank', () => {
  it('gives the LoRA whose parameter count is nearest MoR’s', () => {
    const shapes = [
      { dIn: 256, dOut: 256 },
      { dIn: 256, dOut: 128 },
      { dIn: 688, dOut: 256 },
    ];
    const mor = totalMorParamCount(shapes, { r: 8, experts: 8, routerBias: false });
    const r = matchedLoraRank(shapes, { r: 8, experts: 8 });
    const lora = (k: number) => shapes.reduce((s, sh) => s + loraParamCount(sh, k), 0);
    expect(Math.abs(lora(r) - mor)).toBeLessThanOrEqual(Math.abs(lora(r + 1) - mor));
    expect(Math.abs(lora(r) - mor)).toBeLessThanOrEqual(Math.abs(lora(r - 1) - mor));
  });
});

describe('SVG charts', () => {
  it('scatter: a dot per run, a mean per method, escaped labels', () => {
    const svg = scatterSvg(
      [
        { label: 'lora', x: 1e5, ys: [0.1, 0.2, 0.3] },
        { label: 'a<b', x: 4e6, ys: [0.4] },
      ],
      { title: 't', xLabel: 'x', yLabel: 'y' },
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/r="2.5"/g)).toHaveLength(4);
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('>1e5<');
    expect(svg).toContain('>1e7<');
  });
  it('heat map: one cell per value, checked against its labels', () => {
    const svg = heatmapSvg(
      [
        [0.1, 0.9],
        [0.5, 0.5],
      ],
      ['a', 'b'],
      ['e0', 'e1'],
      { title: 'g' },
    );
    expect(svg.match(/<rect x=/g)).toHaveLength(4);
    expect(svg).toContain('>0.90<');
    expect(() => heatmapSvg([[1]], ['a', 'b'], ['e0'], { title: 'g' })).toThrow(/do not match/);
  });
});
