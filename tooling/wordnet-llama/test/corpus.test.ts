import { describe, expect, it } from 'vitest';
import {
  buildCorpus,
  isHeldOut,
  lrAt,
  packRows,
  packedBatch,
  shuffleInPlace,
  synsetText,
  type Synset,
} from '../src/index.js';

const synset = (over: Partial<Synset>): Synset => ({
  offset: 1,
  pos: 'noun',
  satellite: false,
  lexFilenum: 0,
  words: ['dog'],
  pointers: [],
  gloss: 'a domesticated canine',
  examples: [],
  ...over,
});

describe('synsetText', () => {
  it('headword (pos): gloss, other words, examples as sentences', () => {
    const text = synsetText(
      synset({
        pos: 'adjective',
        words: ['dead', 'deceased'],
        gloss: 'no longer having life',
        examples: ['the nerve is dead', 'are you dead?'],
      }),
    );
    expect(text).toBe(
      'dead (adjective): no longer having life.\ndead is also called deceased.\nthe nerve is dead.\nare you dead?',
    );
  });
});

describe('buildCorpus', () => {
  const synsets = Array.from({ length: 5000 }, (_, i) => synset({ offset: 1000 + i, words: [`w${i}`] }));

  it('holds out about 2 % of synsets, by their key only', () => {
    const docs = buildCorpus(synsets, { seed: 1 });
    const held = docs.filter((d) => d.heldOut).length;
    expect(held).toBeGreaterThan(50);
    expect(held).toBeLessThan(150);
    // The split does not depend on the seed or the order.
    const a = new Set(
      buildCorpus(synsets, { seed: 1 })
        .filter((d) => d.heldOut)
        .map((d) => d.text),
    );
    const b = new Set(
      buildCorpus([...synsets].reverse(), { seed: 9 })
        .filter((d) => d.heldOut)
        .map((d) => d.text),
    );
    expect(a).toEqual(b);
    expect(isHeldOut(synsets[0]!)).toBe(isHeldOut({ pos: 'noun', offset: 1000 }));
  });

  it('shuffles reproducibly with the seed', () => {
    const t = (seed: number) => buildCorpus(synsets, { seed }).map((d) => d.text);
    expect(t(3)).toEqual(t(3));
    expect(t(3)).not.toEqual(t(4));
    expect([...t(3)].sort()).toEqual([...t(4)].sort());
    expect(shuffleInPlace([1, 2, 3, 4, 5, 6, 7, 8], 0)).not.toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('packing and the schedule', () => {
  it('packs <s> doc </s> into full rows, dropping the partial last row', () => {
    const rows = packRows([[5, 6], [7], [8, 9]], 4, 1, 2);
    expect(rows.map((r) => [...r])).toEqual([
      [1, 5, 6, 2],
      [1, 7, 2, 1],
    ]);
    const b = packedBatch(rows);
    expect([...b.labels]).toEqual([...b.inputIds]);
    expect(b.batchSize).toBe(2);
    expect(b.seqLength).toBe(4);
  });

  it('warms up linearly, then decays by a cosine to minRatio', () => {
    expect(lrAt(0, 100, 1, 10)).toBeCloseTo(0.1);
    expect(lrAt(9, 100, 1, 10)).toBeCloseTo(1);
    expect(lrAt(10, 100, 1, 10)).toBeCloseTo(1);
    expect(lrAt(55, 100, 1, 10)).toBeCloseTo(0.55);
    expect(lrAt(100, 100, 1, 10)).toBeCloseTo(0.1);
  });
});
