import { fnv1a } from '../corpus.js';
import type { Split, TaskItem } from './types.js';

/** Fractions of headwords in the evaluation splits; the rest is train. */
export interface SplitFractions {
  dev: number;
  test: number;
}

export const DEFAULT_FRACTIONS: SplitFractions = { dev: 0.1, test: 0.1 };

/**
 * The split of a headword: FNV-1a of `split:<word>` over the 32-bit range, the first `test` part test, the next
 * `dev` part dev. Deterministic (no seed, same on every machine), and independent of the pretraining corpus'
 * held-out split (a hash of `pos:offset`).
 */
export function splitOf(word: string, f: SplitFractions = DEFAULT_FRACTIONS): Split {
  const u = fnv1a(`split:${word}`) / 2 ** 32;
  return u < f.test ? 'test' : u < f.test + f.dev ? 'dev' : 'train';
}

/** Whether a word, or any word of a multi-word answer, is an evaluation (dev or test) word. */
export function mentionsEvalWord(text: string, f: SplitFractions = DEFAULT_FRACTIONS): boolean {
  return [text, ...text.split(/[\s-]+/)].some((w) => w !== '' && splitOf(w, f) !== 'train');
}

/**
 * An item as a fine-tuning row may carry it: null when its headword is an evaluation word, else the item with
 * every answer that mentions an evaluation word removed (null when none is left). So no dev or test headword
 * is ever a headword or an answer in the train split.
 */
export function trainSafe(item: TaskItem, f: SplitFractions = DEFAULT_FRACTIONS): TaskItem | null {
  if (splitOf(item.headword, f) !== 'train') return null;
  const answers = item.answers.filter((a) => !mentionsEvalWord(a, f));
  return answers.length ? { ...item, answers } : null;
}
