import { fnv1a } from '../corpus.js';
import { antonymItem } from './antonym.js';
import { glossPosItem } from './gloss-pos.js';
import { hypernymItem } from './hypernym.js';
import { isSimpleWord, type Lexicon } from './lexicon.js';
import { partOfSpeechItem } from './part-of-speech.js';
import { DEFAULT_FRACTIONS, splitOf, trainSafe, type SplitFractions } from './split.js';
import { synonymItem } from './synonym.js';
import { wordForItem } from './word-for.js';
import {
  GENERATION_TASKS,
  type ClassificationItem,
  type GenerationTask,
  type Split,
  type TaskItem,
} from './types.js';

/** Options of {@link buildTasks}. */
export interface BuildTasksOptions {
  /** Most items per task and split (the hash order decides which). Default train 1600, dev 100, test 200. */
  perTask?: Partial<Record<Split, number>>;
  fractions?: SplitFractions;
  /**
   * Headwords must have at least this many senses tagged in WordNet's semantic concordances (default 1): the
   * common words that occur in running text, not the long tail of taxonomic names.
   */
  minTagSenses?: number;
}

/** The benchmark: generation items and classification items per split. */
export interface TaskSplits {
  items: Record<Split, TaskItem[]>;
  classification: Record<Split, ClassificationItem[]>;
}

const MAKERS: Record<GenerationTask, (lex: Lexicon, word: string) => TaskItem | null> = {
  antonym: antonymItem,
  hypernym: hypernymItem,
  synonym: synonymItem,
  'word-for': wordForItem,
  'part-of-speech': partOfSpeechItem,
};

const SPLITS: Split[] = ['train', 'dev', 'test'];

/** Items in a fixed pseudo-random order: FNV-1a of `task:headword`, ties by headword. */
function hashOrder<T extends { task: string; headword: string }>(items: T[]): T[] {
  const key = (i: T) => fnv1a(`${i.task}:${i.headword}`);
  return items.sort((a, b) => key(a) - key(b) || (a.headword < b.headword ? -1 : 1));
}

/**
 * Builds every task's items from the lexicon, splits them by headword ({@link splitOf}), makes the train items
 * leak-free ({@link trainSafe}) and keeps at most `perTask[split]` items per task and split. Deterministic.
 */
export function buildTasks(lex: Lexicon, o: BuildTasksOptions = {}): TaskSplits {
  const f = o.fractions ?? DEFAULT_FRACTIONS;
  const cap = { train: 1600, dev: 100, test: 200, ...o.perTask };
  const minTag = o.minTagSenses ?? 1;
  const words = [...lex.senses.keys()]
    .filter((w) => isSimpleWord(w) && (lex.tagSenses.get(w) ?? 0) >= minTag)
    .sort();
  const items: Record<Split, TaskItem[]> = { train: [], dev: [], test: [] };
  for (const task of GENERATION_TASKS) {
    const bySplit: Record<Split, TaskItem[]> = { train: [], dev: [], test: [] };
    for (const w of words) {
      const raw = MAKERS[task](lex, w);
      if (!raw) continue;
      const split = splitOf(w, f);
      const item = split === 'train' ? trainSafe(raw, f) : raw;
      if (item) bySplit[split].push(item);
    }
    for (const s of SPLITS) items[s].push(...hashOrder(bySplit[s]).slice(0, cap[s]));
  }
  const classification: Record<Split, ClassificationItem[]> = { train: [], dev: [], test: [] };
  for (const w of words) {
    const item = glossPosItem(lex, w);
    if (item) classification[splitOf(w, f)].push(item);
  }
  for (const s of SPLITS) classification[s] = hashOrder(classification[s]).slice(0, cap[s]);
  // Tasks interleaved in a fixed order, so a prefix of a file (the quick study) holds every task.
  for (const s of SPLITS) items[s] = hashOrder(items[s]);
  return { items, classification };
}

/** A generation item as a `mor train` prompt/completion row; `task`, `headword` and `answers` ride along. */
export function itemRow(item: TaskItem): Record<string, unknown> {
  return {
    task: item.task,
    headword: item.headword,
    prompt: item.prompt,
    completion: ` ${item.answers[0]}\n`,
    answers: item.answers,
  };
}

/** A classification item as a `mor train --task seq-cls` row. */
export function classificationRow(item: ClassificationItem): Record<string, unknown> {
  return { task: item.task, headword: item.headword, text: item.text, label: item.label };
}
