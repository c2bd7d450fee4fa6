import type { Lexicon } from './lexicon.js';
import { CLASSIFICATION_TASK, type ClassificationItem } from './types.js';

/** The sequence-classification task: the gloss of the word's most frequent sense → that sense's part of speech. */
export function glossPosItem(lex: Lexicon, word: string): ClassificationItem | null {
  const first = (lex.senses.get(word) ?? [])[0];
  if (!first || first.synset.gloss === '') return null;
  return { task: CLASSIFICATION_TASK, headword: word, text: first.synset.gloss, label: first.synset.pos };
}
