import { uniqueLower, type Lexicon } from './lexicon.js';
import type { TaskItem } from './types.js';

/**
 * `big is also called` (the corpus' own synonym line) → every other word of every synset of the word, in sense
 * order. Null for a word alone in all its synsets.
 */
export function synonymItem(lex: Lexicon, word: string): TaskItem | null {
  const answers = uniqueLower(
    (lex.senses.get(word) ?? []).flatMap((s) => s.synset.words),
    word,
  );
  return answers.length
    ? { task: 'synonym', headword: word, prompt: `${word} is also called`, answers }
    : null;
}
