import type { StudyResult } from './schema.js';

/** Mean and sample standard deviation (n − 1; 0 for a single value). */
export interface MeanStd {
  mean: number;
  std: number;
}

export function meanStd(values: readonly number[]): MeanStd {
  if (values.length === 0) throw new Error('mean of no values');
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length === 1) return { mean, std: 0 };
  const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (values.length - 1)) };
}

/** A run with what the table needs besides the schema's fields. */
export interface TimedResult extends StudyResult {
  /** Wall seconds of the training command. */
  train_seconds: number;
}

/** One method's row of the results table. */
export interface MethodSummary {
  method: string;
  seeds: number[];
  trainable_params: number;
  accuracy: Record<string, MeanStd>;
  mean_accuracy: MeanStd;
  train_seconds: MeanStd;
}

/**
 * Groups runs by method (first-seen order) into mean ± std per task and overall. Runs of one method must share
 * their trainable parameter count (the same adapter shape); a mismatch throws, naming the method.
 */
export function summarizeResults(results: readonly TimedResult[], tasks: readonly string[]): MethodSummary[] {
  const groups = new Map<string, TimedResult[]>();
  for (const r of results) groups.set(r.method, [...(groups.get(r.method) ?? []), r]);
  return [...groups].map(([method, runs]) => {
    const params = new Set(runs.map((r) => r.trainable_params));
    if (params.size !== 1)
      throw new Error(`${method}: runs differ in trainable parameters (${[...params].join(', ')})`);
    return {
      method,
      seeds: runs.map((r) => r.seed),
      trainable_params: runs[0]!.trainable_params,
      accuracy: Object.fromEntries(tasks.map((t) => [t, meanStd(runs.map((r) => r.accuracy[t] ?? NaN))])),
      mean_accuracy: meanStd(runs.map((r) => r.mean_accuracy)),
      train_seconds: meanStd(runs.map((r) => r.train_seconds)),
    };
  });
}

const pct = (m: MeanStd): string => `${(100 * m.mean).toFixed(1)} ± ${(100 * m.std).toFixed(1)}`;

/** The results as a Markdown table: accuracy in % (mean ± std over seeds) per task and overall, params, time. */
export function resultsTable(rows: readonly MethodSummary[], tasks: readonly string[]): string {
  const head = ['method', 'seeds', 'trainable params', ...tasks, 'mean', 'train s'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`];
  for (const r of rows) {
    const cells = [
      r.method,
      String(r.seeds.length),
      r.trainable_params.toLocaleString('en-US'),
      ...tasks.map((t) => pct(r.accuracy[t]!)),
      `**${pct(r.mean_accuracy)}**`,
      r.train_seconds.mean.toFixed(0),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
