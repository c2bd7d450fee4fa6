import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  antonymItem,
  buildLexicon,
  buildTasks,
  classificationRow,
  hypernymItem,
  itemRow,
  mentionsEvalWord,
  parseIndexLine,
  partOfSpeechItem,
  readWordNet,
  readWordNetIndex,
  splitOf,
  synonymItem,
  trainSafe,
  wordForItem,
  wordnetDbDictDir,
  type TaskItem,
} from '../src/index.js';

const dict = wordnetDbDictDir();
const lex = buildLexicon(readWordNet(dict), readWordNetIndex(dict));
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const committed = (file: string): Record<string, unknown>[] =>
  readFileSync(join(repo, 'examples/data/wordnet', file), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('parseIndexLine', () => {
  it('dog: senses in sense order, tagged-sense count', () => {
    const e = parseIndexLine(
      'dog n 7 5 @ ~ #m #p %p 7 1 02086723 10133978 10042764 09905672 07692347 03907626 02712903  ',
    );
    expect(e).toEqual({
      lemma: 'dog',
      pos: 'noun',
      tagSenseCount: 1,
      offsets: [2086723, 10133978, 10042764, 9905672, 7692347, 3907626, 2712903],
    });
  });

  it.each([
    ['dog n 3 0 3 1 02086723 10133978', /synset_cnt is 3 but the line lists 2 offsets/],
    ['dog q 1 0 1 1 02086723', /unknown part of speech "q"/],
    ['dog n 1 0 1 1 2086723', /offset "2086723" is not 8 digits/],
    ['dog n x', /synset_cnt "x"/],
  ])('refuses %s', (line, why) => {
    expect(() => parseIndexLine(line, 'index.noun', 9)).toThrow(why);
    expect(() => parseIndexLine(line, 'index.noun', 9)).toThrow(/index\.noun:9/);
  });
});

describe('task items from WordNet 3.1', () => {
  it('antonym, hypernym, synonym, part of speech, definition → word', () => {
    expect(antonymItem(lex, 'hot')!.answers).toContain('cold');
    expect(antonymItem(lex, 'dog')).toBeNull();
    const dog = hypernymItem(lex, 'dog')!;
    expect(dog.prompt).toBe('dog is a kind of');
    expect(dog.answers[0]).toBe('canine'); // sense 1 (the animal) first
    expect(synonymItem(lex, 'big')!.answers).toContain('large');
    expect(partOfSpeechItem(lex, 'quickly')!.answers).toEqual(['adverb']);
    expect(partOfSpeechItem(lex, 'run')!.answers).toEqual(['verb', 'noun']); // 41 verb senses, 16 noun
    const w = wordForItem(lex, 'dog')!;
    // Sense 1's gloss (the animal) is over MAX_GLOSS_CHARS long: the next sense named "dog" serves.
    expect(w.prompt).toBe('the word for "informal term for a man" is');
    expect(w.answers[0]).toBe('dog');
    expect(wordForItem(lex, 'pay')!.prompt).toBe(
      'the word for "give money, usually in exchange for goods or services" is',
    );
  });
});

describe('split by headword', () => {
  it('is deterministic and about 80/10/10', () => {
    const words = [...lex.senses.keys()];
    const counts = { train: 0, dev: 0, test: 0 };
    for (const w of words) counts[splitOf(w)]++;
    expect(counts.test / words.length).toBeCloseTo(0.1, 1);
    expect(counts.dev / words.length).toBeCloseTo(0.1, 1);
    expect(words.slice(0, 500).map((w) => splitOf(w))).toEqual(words.slice(0, 500).map((w) => splitOf(w)));
  });

  it('trainSafe drops eval headwords and answers that mention an eval word', () => {
    const evalWord = [...lex.senses.keys()].find((w) => /^[a-z]+$/.test(w) && splitOf(w) === 'test')!;
    const trainWord = [...lex.senses.keys()].find((w) => /^[a-z]+$/.test(w) && splitOf(w) === 'train')!;
    const item = (headword: string, answers: string[]): TaskItem => ({
      task: 'synonym',
      headword,
      prompt: `${headword} is also called`,
      answers,
    });
    expect(trainSafe(item(evalWord, [trainWord]))).toBeNull();
    expect(trainSafe(item(trainWord, [evalWord]))).toBeNull();
    expect(trainSafe(item(trainWord, [`big ${evalWord}`, trainWord]))!.answers).toEqual([trainWord]);
    expect(mentionsEvalWord(`x-${evalWord}`)).toBe(true);
  });

  const built = buildTasks(lex);

  it('no dev or test headword is a headword or an answer of any train row', () => {
    const evalWords = new Set([...built.items.dev, ...built.items.test].map((i) => i.headword));
    for (const i of built.items.train) {
      expect(evalWords.has(i.headword)).toBe(false);
      for (const a of i.answers)
        for (const part of [a, ...a.split(/[\s-]+/)]) expect(evalWords.has(part)).toBe(false);
    }
    const clsTrain = new Set(built.classification.train.map((i) => i.headword));
    for (const i of [...built.classification.dev, ...built.classification.test])
      expect(clsTrain.has(i.headword)).toBe(false);
  });

  it('dev and test headwords are disjoint; every split holds every task', () => {
    const dev = new Set(built.items.dev.map((i) => i.headword));
    expect(built.items.test.some((i) => dev.has(i.headword))).toBe(false);
    for (const s of ['train', 'dev', 'test'] as const)
      expect(new Set(built.items[s].map((i) => i.task)).size).toBe(5);
  });

  it('the committed examples/data/wordnet files are what the generator writes', () => {
    for (const s of ['train', 'dev', 'test'] as const) {
      expect(committed(`${s}.jsonl`)).toEqual(built.items[s].map(itemRow));
      expect(committed(`cls-${s}.jsonl`)).toEqual(built.classification[s].map(classificationRow));
    }
  });
});
