import { createRng } from '@mor/core';
import { describe, expect, it } from 'vitest';
import { collateBatch, DataOrder, shuffledIndices, type Example } from '../src/index.js';

const take = (order: DataOrder, k: number, n: number): number[][] =>
  Array.from({ length: n }, () => order.next(k));

describe('DataOrder', () => {
  it('same seed → same order; another seed → another; each epoch a new permutation of all rows', () => {
    const a = take(new DataOrder({ size: 10, seed: 7 }), 4, 6);
    const b = take(new DataOrder({ size: 10, seed: 7 }), 4, 6);
    const c = take(new DataOrder({ size: 10, seed: 8 }), 4, 6);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    // batches of 4 over 10 rows: 4, 4, 2 per epoch (no batch crosses an epoch end)
    expect(a.map((x) => x.length)).toEqual([4, 4, 2, 4, 4, 2]);
    const epoch1 = a.slice(0, 3).flat();
    const epoch2 = a.slice(3).flat();
    expect([...epoch1].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...epoch2].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(epoch1).not.toEqual(epoch2);
  });

  it('no shuffle: file order, epoch after epoch', () => {
    expect(take(new DataOrder({ size: 3, shuffle: false }), 2, 4)).toEqual([[0, 1], [2], [0, 1], [2]]);
  });

  it('a saved position resumes the exact stream, mid-epoch and across epochs', () => {
    const straight = new DataOrder({ size: 7, seed: 3 });
    const first = take(straight, 3, 4);
    const saved = JSON.parse(JSON.stringify(straight.position()));
    const rest = take(straight, 3, 5);
    const resumed = new DataOrder({ size: 7, seed: 999 }, saved); // the seed is in the saved state
    expect(take(resumed, 3, 5)).toEqual(rest);
    expect(first.flat()).toHaveLength(3 + 3 + 1 + 3);
  });

  it('refuses a position saved with the other shuffle setting', () => {
    const pos = new DataOrder({ size: 3, shuffle: false }).position();
    expect(() => new DataOrder({ size: 3, shuffle: true }, pos)).toThrow(/same shuffle setting/);
  });

  it('Fisher–Yates is a permutation and depends only on the generator state', () => {
    const p = shuffledIndices(50, createRng(1));
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(shuffledIndices(50, createRng(1))).toEqual(p);
  });
});

describe('collateBatch', () => {
  const examples: Example[] = [
    { line: 1, inputIds: [1, 5, 6], labels: [-100, 5, 6], classId: null },
    { line: 2, inputIds: [1, 7], labels: [1, 7], classId: null },
  ];

  it('right-pads with pad_token_id, mask 0 and label -100 on padding', () => {
    const b = collateBatch(examples, { task: 'causal-lm', padTokenId: 0 });
    expect([b.batchSize, b.seqLength]).toEqual([2, 3]);
    expect(Array.from(b.inputIds, Number)).toEqual([1, 5, 6, 1, 7, 0]);
    expect(Array.from(b.attentionMask, Number)).toEqual([1, 1, 1, 1, 1, 0]);
    expect(Array.from(b.labels, Number)).toEqual([-100, 5, 6, 1, 7, -100]);
  });

  it('seq-cls: one class id per row', () => {
    const b = collateBatch(
      [
        { line: 1, inputIds: [2, 9, 3], labels: null, classId: 1 },
        { line: 2, inputIds: [2, 3], labels: null, classId: 0 },
      ],
      { task: 'seq-cls', padTokenId: 0 },
    );
    expect(Array.from(b.labels, Number)).toEqual([1, 0]);
    expect(Array.from(b.inputIds, Number)).toEqual([2, 9, 3, 2, 3, 0]);
  });
});
