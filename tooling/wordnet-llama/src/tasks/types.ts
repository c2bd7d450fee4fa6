/** The generation tasks of the WordNet benchmark (docs/quality.md). */
export const GENERATION_TASKS = ['antonym', 'hypernym', 'synonym', 'word-for', 'part-of-speech'] as const;
export type GenerationTask = (typeof GENERATION_TASKS)[number];

/** The sequence-classification task: a gloss → its synset's part of speech. */
export const CLASSIFICATION_TASK = 'gloss-pos';

/** The three splits, by headword. */
export type Split = 'train' | 'dev' | 'test';

/** One generation item: a prompt whose greedy continuation is scored against every valid answer. */
export interface TaskItem {
  task: GenerationTask;
  /** The word the item is about (lower case); the split is decided by it. */
  headword: string;
  prompt: string;
  /** Every valid answer (lower case, deduplicated); the first is the one trained as the completion. */
  answers: string[];
}

/** One classification item (`{"text", "label"}` rows of `mor train --task seq-cls`). */
export interface ClassificationItem {
  task: typeof CLASSIFICATION_TASK;
  headword: string;
  text: string;
  label: string;
}
