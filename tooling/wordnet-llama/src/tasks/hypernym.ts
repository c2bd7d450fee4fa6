import { synsetKey } from '../parse-wordnet.js';
import { uniqueLower, type Lexicon } from './lexicon.js';
import type { TaskItem } from './types.js';

/**
 * `dog is a kind of` → every word of every hypernym synset (`@`, and `@i` for instances) of the word's noun
 * senses, in sense order. Null for a word without noun senses or hypernyms.
 */
export function hypernymItem(lex: Lexicon, word: string): TaskItem | null {
  const targets: string[] = [];
  for (const { synset } of lex.senses.get(word) ?? []) {
    if (synset.pos !== 'noun') continue;
    for (const p of synset.pointers) {
      if (p.symbol !== '@' && p.symbol !== '@i') continue;
      const target = lex.synsets.get(synsetKey(p.pos, p.offset));
      if (!target) throw new Error(`"${word}": hypernym pointer to a missing synset ${p.pos}:${p.offset}`);
      targets.push(...target.words);
    }
  }
  const answers = uniqueLower(targets, word);
  return answers.length
    ? { task: 'hypernym', headword: word, prompt: `${word} is a kind of`, answers }
    : null;
}
