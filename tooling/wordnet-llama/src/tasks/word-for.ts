import { uniqueLower, type Lexicon } from './lexicon.js';
import type { TaskItem } from './types.js';

/** Glosses longer than this are left out: the rows stay short, and long glosses are mostly lists. */
export const MAX_GLOSS_CHARS = 100;

/**
 * Definition → word: `the word for "<gloss>" is` → every word of that synset. The gloss is that of the word's
 * most frequent sense whose first word it is (so the headword is the synset's own name); null when there is
 * none with a gloss of at most {@link MAX_GLOSS_CHARS} characters.
 */
export function wordForItem(lex: Lexicon, word: string): TaskItem | null {
  const sense = (lex.senses.get(word) ?? []).find(
    (s) => s.wordNumber === 1 && s.synset.gloss.length > 0 && s.synset.gloss.length <= MAX_GLOSS_CHARS,
  );
  if (!sense) return null;
  const gloss = sense.synset.gloss.replace(/"/g, "'");
  return {
    task: 'word-for',
    headword: word,
    prompt: `the word for "${gloss}" is`,
    answers: [word, ...uniqueLower(sense.synset.words, word)],
  };
}
