import { synsetKey } from '../parse-wordnet.js';
import { uniqueLower, type Lexicon } from './lexicon.js';
import type { TaskItem } from './types.js';

/**
 * `the opposite of hot is` → every antonym of the word: WordNet's lexical `!` pointers from the word in any of
 * its senses, in sense order. Null when the word has none.
 */
export function antonymItem(lex: Lexicon, word: string): TaskItem | null {
  const targets: string[] = [];
  for (const { synset, wordNumber } of lex.senses.get(word) ?? []) {
    for (const p of synset.pointers) {
      if (p.symbol !== '!' || p.sourceWord !== wordNumber) continue;
      const target = lex.synsets.get(synsetKey(p.pos, p.offset));
      const w = target?.words[p.targetWord - 1];
      if (w === undefined)
        throw new Error(`"${word}": antonym pointer to a missing word ${p.pos}:${p.offset}`);
      targets.push(w);
    }
  }
  const answers = uniqueLower(targets, word);
  return answers.length
    ? { task: 'antonym', headword: word, prompt: `the opposite of ${word} is`, answers }
    : null;
}
