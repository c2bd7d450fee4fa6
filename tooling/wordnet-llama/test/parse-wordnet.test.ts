import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  WordNetParseError,
  parseDataFile,
  parseDataLine,
  readWordNet,
  synsetKey,
  wordnetDbDictDir,
  type Synset,
} from '../src/index.js';

const dict = wordnetDbDictDir();
const lineStarting = (file: string, prefix: string): string => {
  const line = readFileSync(join(dict, file), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(prefix));
  if (!line) throw new Error(`no line ${prefix} in ${file}`);
  return line;
};

describe('parseDataLine on real WordNet 3.1 lines', () => {
  it('dog (noun): words, gloss, example, hypernyms', () => {
    const s = parseDataLine(lineStarting('data.noun', '02086723 '));
    expect(s.pos).toBe('noun');
    expect(s.offset).toBe(2086723);
    expect(s.lexFilenum).toBe(5);
    expect(s.words).toEqual(['dog', 'domestic dog', 'Canis familiaris']);
    expect(s.gloss).toBe(
      'a member of the genus Canis (probably descended from the common wolf) that has been domesticated by man ' +
        'since prehistoric times; occurs in many breeds',
    );
    expect(s.examples).toEqual(['the dog barked all night']);
    expect(s.pointers).toHaveLength(23);
    const hypernyms = s.pointers.filter((p) => p.symbol === '@').map((p) => synsetKey(p.pos, p.offset));
    expect(hypernyms).toEqual(['noun:2085998', 'noun:1320032']);
    expect(s.pointers.some((p) => p.symbol === '#m')).toBe(true);
  });

  it('alive (adjective): marker "(p)" stripped, lexical antonym with word numbers', () => {
    const s = parseDataLine(lineStarting('data.adj', '00095301 '));
    expect(s.pos).toBe('adjective');
    expect(s.satellite).toBe(false);
    expect(s.words).toEqual(['alive', 'live']);
    const ant = s.pointers.find((p) => p.symbol === '!')!;
    expect(ant).toEqual({ symbol: '!', offset: 96133, pos: 'adjective', sourceWord: 1, targetWord: 1 });
  });

  it('satellites are adjectives; several examples split from the gloss', () => {
    const s = parseDataLine(lineStarting('data.adj', '00360340 '));
    expect(s.pos).toBe('adjective');
    expect(s.satellite).toBe(true);
    expect(s.words).toEqual(['dead', 'drained']);
    expect(s.gloss).toBe('drained of electric charge; discharged');
    expect(s.examples).toEqual([
      'a dead battery',
      'left the lights on and came back to find the battery drained',
    ]);
  });

  it('verb lines with frames parse (frames skipped)', () => {
    const line = readFileSync(join(dict, 'data.verb'), 'utf8')
      .split('\n')
      .find((l) => / v 0\d run 0 /.test(l))!;
    const s = parseDataLine(line);
    expect(s.pos).toBe('verb');
    expect(s.words[0]).toBe('run');
    expect(s.gloss.length).toBeGreaterThan(5);
  });
});

describe('readWordNet (whole database)', () => {
  const all = readWordNet(dict);
  const byKey = new Map(all.map((s) => [synsetKey(s.pos, s.offset), s]));
  const words = (key: string) => byKey.get(key)?.words;

  it('reads every synset of the four data files and resolves pointers', () => {
    expect(all.length).toBeGreaterThan(117_000);
    const counts = { noun: 0, verb: 0, adjective: 0, adverb: 0 };
    for (const s of all) counts[s.pos]++;
    expect(counts.noun).toBeGreaterThan(80_000);
    expect(counts.verb).toBeGreaterThan(13_000);
    for (const s of all.slice(0, 2000))
      for (const p of s.pointers) expect(byKey.has(synsetKey(p.pos, p.offset))).toBe(true);
  });

  it('dead (adjective) has the antonym alive/live; dog has the hypernym canine', () => {
    const dead = all.find(
      (s) => s.pos === 'adjective' && s.words[0] === 'dead' && s.pointers.some((p) => p.symbol === '!'),
    )!;
    const antonyms = dead.pointers
      .filter((p) => p.symbol === '!')
      .flatMap((p) => words(synsetKey(p.pos, p.offset))!);
    expect(antonyms).toEqual(expect.arrayContaining(['alive', 'live']));
    const dog = byKey.get('noun:2086723') as Synset;
    const hyper = dog.pointers
      .filter((p) => p.symbol === '@')
      .flatMap((p) => words(synsetKey(p.pos, p.offset))!);
    expect(hyper).toContain('canine');
  });
});

describe('malformed lines', () => {
  const good =
    '00002098 00 a 01 unable 0 002 = 05207437 n 0000 ! 00001740 a 0101 | not able; "unable to swim"';

  it('parses the well-formed reference line', () => {
    expect(parseDataLine(good).words).toEqual(['unable']);
  });

  it.each([
    ['00002098 00 a zz unable 0 000 | x', /w_cnt "zz" is not a hex number/],
    ['00002098 00 q 01 unable 0 000 | x', /unknown part of speech "q"/],
    ['00002098 00 a 01 unable 0 002 = 05207437 n 0000 | x', /missing pointer 2 symbol/],
    ['00002098 00 a 01 unable 0 001 = 05207437 n 00x0 | x', /source\/target "00x0"/],
    ['00002098 00 a 01 unable 0 000', /no " \| " gloss separator/],
    ['garbage', /synset offset "garbage"/],
  ])('%s', (line, why) => {
    expect(() => parseDataLine(line, 'data.adj', 7)).toThrow(why);
  });

  it('errors name the file and the line', () => {
    const text = `  1 This software and database is being provided\n${good}\n00001740 00 a 01\n`;
    let err: unknown;
    try {
      parseDataFile(text, '/dict/data.adj');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WordNetParseError);
    expect((err as WordNetParseError).file).toBe('/dict/data.adj');
    expect((err as WordNetParseError).line).toBe(3);
    expect((err as Error).message).toMatch(/^\/dict\/data\.adj:3: missing word 1/);
  });
});
