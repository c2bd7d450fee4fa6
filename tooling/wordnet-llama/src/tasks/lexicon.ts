import type { IndexEntry } from '../parse-index.js';
import { synsetKey, type PartOfSpeech, type Synset } from '../parse-wordnet.js';

/** One sense of a lemma: the synset and the lemma's 1-based word number in it. */
export interface Sense {
  synset: Synset;
  /** 1-based position of the lemma in `synset.words` (what lexical pointers' source/target numbers count). */
  wordNumber: number;
}

/** WordNet as the tasks read it: synsets by key and each lemma's senses in sense order. */
export interface Lexicon {
  synsets: Map<string, Synset>;
  /** Lower-case lemma → its senses: nouns first, then verbs, adjectives, adverbs; each POS in sense order. */
  senses: Map<string, Sense[]>;
  /** Lower-case lemma → the most semantic-concordance-tagged senses over its POS (0: a rare word). */
  tagSenses: Map<string, number>;
}

/** A headword the tasks use: one lower-case word of letters (hyphens inside allowed), 3–20 characters. */
export function isSimpleWord(w: string): boolean {
  return /^[a-z][a-z-]{1,18}[a-z]$/.test(w);
}

/**
 * Joins the data files' synsets with the index files' sense order. An index offset with no synset is a
 * mismatch between the two files and throws, naming the lemma.
 */
export function buildLexicon(synsets: readonly Synset[], index: readonly IndexEntry[]): Lexicon {
  const byKey = new Map(synsets.map((s) => [synsetKey(s.pos, s.offset), s]));
  const senses = new Map<string, Sense[]>();
  const tagSenses = new Map<string, number>();
  for (const e of index) {
    const list = senses.get(e.lemma) ?? [];
    for (const offset of e.offsets) {
      const synset = byKey.get(synsetKey(e.pos, offset));
      if (!synset) throw new Error(`index ${e.pos} "${e.lemma}": no synset at offset ${offset}`);
      const n = synset.words.findIndex((w) => w.toLowerCase() === e.lemma);
      if (n < 0) throw new Error(`index ${e.pos} "${e.lemma}": synset ${offset} does not list the lemma`);
      list.push({ synset, wordNumber: n + 1 });
    }
    senses.set(e.lemma, list);
    tagSenses.set(e.lemma, Math.max(tagSenses.get(e.lemma) ?? 0, e.tagSenseCount));
  }
  return { synsets: byKey, senses, tagSenses };
}

/** The lemma's parts of speech, the one with the most senses first (ties: noun, verb, adjective, adverb). */
export function partsOfSpeech(senses: readonly Sense[]): PartOfSpeech[] {
  const count = new Map<PartOfSpeech, number>();
  for (const s of senses) count.set(s.synset.pos, (count.get(s.synset.pos) ?? 0) + 1);
  return [...count.keys()].sort((a, b) => count.get(b)! - count.get(a)!); // stable: index order on ties
}

/** Lower-case, order-keeping deduplication, without `except`. */
export function uniqueLower(words: Iterable<string>, except: string): string[] {
  const seen = new Set<string>([except]);
  const out: string[] = [];
  for (const w of words) {
    const l = w.toLowerCase();
    if (!seen.has(l)) {
      seen.add(l);
      out.push(l);
    }
  }
  return out;
}
