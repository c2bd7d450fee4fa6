import type { Synset } from './parse-wordnet.js';

/** One synset as corpus text, and whether it belongs to the held-out split. */
export interface CorpusDoc {
  text: string;
  heldOut: boolean;
}

/** Options of {@link buildCorpus}. */
export interface CorpusOptions {
  /** Fraction of synsets held out (by a hash of `pos:offset`, so the split is stable). Default 0.02. */
  heldOutFraction?: number;
  /** Seed of the shuffle of the documents. Default 0. */
  seed?: number;
}

/**
 * The text of one synset, in the form the benchmark's prompts match: its first word, the part of speech, the
 * gloss as a sentence, then its other words and each example sentence on its own line:
 *
 *     dead (adjective): no longer having or seeming to have or expecting to have life.
 *     the nerve is dead.
 */
export function synsetText(s: Synset): string {
  const lines = [`${s.words[0]} (${s.pos}): ${sentence(s.gloss)}`];
  if (s.words.length > 1) lines.push(`${s.words[0]} is also called ${s.words.slice(1).join(', ')}.`);
  for (const ex of s.examples) lines.push(sentence(ex));
  return lines.join('\n');
}

function sentence(s: string): string {
  const t = s.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** FNV-1a 32-bit: a stable hash for the held-out split (same on every machine and Node version). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Whether a synset is held out: its key's hash falls in the first `fraction` of the 32-bit range. */
export function isHeldOut(s: Pick<Synset, 'pos' | 'offset'>, fraction = 0.02): boolean {
  return fnv1a(`${s.pos}:${s.offset}`) / 2 ** 32 < fraction;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle in place with a seeded PRNG. */
export function shuffleInPlace<T>(items: T[], seed: number): T[] {
  const rand = mulberry32(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** The corpus: one document per synset, shuffled with `seed`, each marked train or held out. */
export function buildCorpus(synsets: readonly Synset[], opts: CorpusOptions = {}): CorpusDoc[] {
  const fraction = opts.heldOutFraction ?? 0.02;
  const docs = synsets.map((s) => ({ text: synsetText(s), heldOut: isHeldOut(s, fraction) }));
  return shuffleInPlace(docs, opts.seed ?? 0);
}
