// The WordNet tasks (examples/data/wordnet, served by the Vite plugin under /data/wordnet/) as the page uses
// them with models/wordnet-llama: a few train rows a task to train on, a few dev rows a task as held-out prompts
// (dev headwords never occur in train rows). Pure functions of the files' text, so the e2e tests' Node reference
// run picks the very same rows from disk.
import type { TrainExample } from './multitask.js';

/** A row of train.jsonl / dev.jsonl (prompt/completion plus every valid answer). */
export interface WordNetRow extends TrainExample {
  answers: string[];
}

/** URL of the task files on the page. */
export const WORDNET_DATA_URL = '/data/wordnet/';
/** Train rows a task the page trains on, and held-out prompts a task it shows. */
export const TRAIN_PER_TASK = 16;
export const HELD_OUT_PER_TASK = 2;

/** Parses a task file (JSON lines with task, prompt, completion, answers), naming the line of a bad row. */
export function parseWordNetRows(text: string, file: string): WordNetRow[] {
  const rows: WordNetRow[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const r = JSON.parse(line) as Partial<WordNetRow>;
    if (
      typeof r.task !== 'string' ||
      typeof r.prompt !== 'string' ||
      typeof r.completion !== 'string' ||
      !Array.isArray(r.answers)
    )
      throw new Error(`${file}:${i + 1}: expected {"task","prompt","completion","answers"}`);
    rows.push({ task: r.task, prompt: r.prompt, completion: r.completion, answers: r.answers });
  });
  return rows;
}

/** The first `perTask` rows of every task, tasks in first-seen order, then interleaved (task 1, task 2, …). */
export function firstPerTask(rows: readonly WordNetRow[], perTask: number): WordNetRow[] {
  const byTask = new Map<string, WordNetRow[]>();
  for (const r of rows) {
    const list = byTask.get(r.task) ?? [];
    if (list.length < perTask) list.push(r);
    byTask.set(r.task, list);
  }
  const lists = [...byTask.values()];
  const out: WordNetRow[] = [];
  for (let i = 0; i < perTask; i++) for (const list of lists) if (list[i]) out.push(list[i]);
  return out;
}

/** The data the page trains on and the prompts it asks, from the two files' text. */
export function wordNetDemoData(
  trainText: string,
  devText: string,
): { train: WordNetRow[]; heldOut: WordNetRow[] } {
  return {
    train: firstPerTask(parseWordNetRows(trainText, 'train.jsonl'), TRAIN_PER_TASK),
    heldOut: firstPerTask(parseWordNetRows(devText, 'dev.jsonl'), HELD_OUT_PER_TASK),
  };
}

/** Fetches the two files from the page's server. */
export async function fetchWordNetDemoData(): Promise<{ train: WordNetRow[]; heldOut: WordNetRow[] }> {
  const text = async (name: string) => {
    const res = await fetch(`${WORDNET_DATA_URL}${name}`);
    if (!res.ok) throw new Error(`${WORDNET_DATA_URL}${name}: HTTP ${res.status}`);
    return res.text();
  };
  return wordNetDemoData(await text('train.jsonl'), await text('dev.jsonl'));
}

/** The benchmark's answer normalisation (tooling/wordnet-llama score.ts): first line, lower case, no end punctuation. */
export function firstLineAnswer(text: string): string {
  return (text.split('\n')[0] ?? '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\s.,;:!?'"]+$/, '')
    .trim();
}
