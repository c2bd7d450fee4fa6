import { partsOfSpeech, type Lexicon } from './lexicon.js';
import type { TaskItem } from './types.js';

/**
 * `the part of speech of quickly is` → every part of speech the word has (noun, verb, adjective, adverb), the one
 * with the most senses first. This stands in for word → definition: a definition is free text, which exact match
 * cannot score, while the part of speech is a closed answer about the same word.
 */
export function partOfSpeechItem(lex: Lexicon, word: string): TaskItem | null {
  const answers = partsOfSpeech(lex.senses.get(word) ?? []);
  return answers.length
    ? { task: 'part-of-speech', headword: word, prompt: `the part of speech of ${word} is`, answers }
    : null;
}
