import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WordNetParseError, type PartOfSpeech } from './parse-wordnet.js';

/** One line of a WordNet `index.<pos>` file: a lemma and its synsets, most frequent sense first. */
export interface IndexEntry {
  /** The lemma, underscores as spaces, lower case (as WordNet's index files have it). */
  lemma: string;
  pos: PartOfSpeech;
  /** Offsets of the lemma's synsets in the POS's data file, in sense order (sense 1 first). */
  offsets: number[];
  /** Senses of the lemma tagged in WordNet's semantic concordances (0: the lemma never occurs there). */
  tagSenseCount: number;
}

const POS_BY_CODE: Record<string, PartOfSpeech> = { n: 'noun', v: 'verb', a: 'adjective', r: 'adverb' };

/** The index files of a WordNet `dict/` folder, by POS. */
export const INDEX_FILES: Record<PartOfSpeech, string> = {
  noun: 'index.noun',
  verb: 'index.verb',
  adjective: 'index.adj',
  adverb: 'index.adv',
};

/**
 * Parses one index line: `lemma pos synset_cnt p_cnt [ptr_symbol…] sense_cnt tagsense_cnt synset_offset…`.
 * `file` and `lineNo` only name the place in errors.
 */
export function parseIndexLine(line: string, file = '<line>', lineNo = 1): IndexEntry {
  const fail = (why: string): never => {
    throw new WordNetParseError(why, file, lineNo);
  };
  const f = line.trim().split(/ +/);
  const count = (i: number, what: string): number => {
    const s = f[i] ?? fail(`missing ${what}`);
    if (!/^\d+$/.test(s)) fail(`${what} "${s}" is not a decimal number`);
    return parseInt(s, 10);
  };
  const lemma = (f[0] ?? fail('missing lemma')).replace(/_/g, ' ');
  const pos = POS_BY_CODE[f[1] ?? ''] ?? fail(`unknown part of speech "${f[1] ?? ''}"`);
  const synsetCnt = count(2, 'synset_cnt');
  const pCnt = count(3, 'p_cnt');
  const first = 4 + pCnt + 2; // pointer symbols, then sense_cnt and tagsense_cnt
  count(4 + pCnt, 'sense_cnt');
  const tagSenseCount = count(5 + pCnt, 'tagsense_cnt');
  const offsets = f.slice(first);
  if (offsets.length !== synsetCnt)
    fail(`synset_cnt is ${synsetCnt} but the line lists ${offsets.length} offsets`);
  return {
    lemma,
    pos,
    tagSenseCount,
    offsets: offsets.map((o) =>
      /^\d{8}$/.test(o) ? parseInt(o, 10) : fail(`offset "${o}" is not 8 digits`),
    ),
  };
}

/** Parses an index file's text; licence lines (starting with two spaces) and blank lines are skipped. */
export function parseIndexFile(text: string, file: string): IndexEntry[] {
  const out: IndexEntry[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    if (line.startsWith('  ') || line.trim() === '') continue;
    out.push(parseIndexLine(line, file, n + 1));
  }
  return out;
}

/** Every index entry of a WordNet `dict/` folder (noun, verb, adjective, adverb files, in that order). */
export function readWordNetIndex(dictDir: string): IndexEntry[] {
  return (Object.keys(INDEX_FILES) as PartOfSpeech[]).flatMap((pos) => {
    const file = join(dictDir, INDEX_FILES[pos]);
    return parseIndexFile(readFileSync(file, 'utf8'), file);
  });
}
