/**
 * The benchmark's scorer: a greedy continuation is normalised (first line, lower case, spaces collapsed, closing
 * punctuation dropped) and counts when it equals any valid answer normalised the same way.
 */
export function normalizeAnswer(text: string): string {
  const firstLine = text.split('\n')[0] ?? '';
  return firstLine
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\s.,;:!?'"]+$/, '')
    .trim();
}

/** Exact match of a prediction against any of `answers`, after {@link normalizeAnswer}. */
export function isCorrect(prediction: string, answers: readonly string[]): boolean {
  const p = normalizeAnswer(prediction);
  return p !== '' && answers.some((a) => normalizeAnswer(a) === p);
}

/** One scored row. */
export interface Prediction {
  task: string;
  answers: readonly string[];
  prediction: string;
}

/** Per task: rows, correct rows and accuracy. */
export interface TaskScore {
  total: number;
  correct: number;
  accuracy: number;
}

/** Scores predictions per task (tasks in first-seen order). */
export function scoreByTask(rows: readonly Prediction[]): Record<string, TaskScore> {
  const out: Record<string, TaskScore> = {};
  for (const r of rows) {
    const s = (out[r.task] ??= { total: 0, correct: 0, accuracy: 0 });
    s.total++;
    if (isCorrect(r.prediction, r.answers)) s.correct++;
  }
  for (const s of Object.values(out)) s.accuracy = s.correct / s.total;
  return out;
}

/** The unweighted mean over tasks of their accuracies (each task counts once, whatever its size). */
export function meanAccuracy(accuracy: Readonly<Record<string, number>>): number {
  const v = Object.values(accuracy);
  if (v.length === 0) throw new Error('mean accuracy of no tasks');
  return v.reduce((a, b) => a + b, 0) / v.length;
}
