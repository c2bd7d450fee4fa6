/** The methods of the quality study, in report order (docs/quality.md). */
export const STUDY_METHODS = ['lora', 'lora-matched', 'moelora', 'mor', 'mor-top2', 'full'] as const;
export type StudyMethod = (typeof STUDY_METHODS)[number];

/** One trained and scored run. */
export interface StudyResult {
  method: StudyMethod;
  seed: number;
  trainable_params: number;
  /** Test accuracy per task, in [0, 1]. */
  accuracy: Record<string, number>;
  /** Unweighted mean of `accuracy` over the tasks. */
  mean_accuracy: number;
}

/** The document `bench/quality.mjs --json` prints (issue 11's schema). */
export interface QualityReport {
  base_model: string;
  tasks: string[];
  results: StudyResult[];
}

/** A report that does not follow the schema: says which field and why. */
export class QualitySchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QualitySchemaError';
  }
}

const isUnit = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;

/**
 * Checks a parsed report against the schema: exactly the keys `base_model`, `tasks`, `results`; each result
 * exactly `method` (one of {@link STUDY_METHODS}), `seed`, `trainable_params` (positive integers; seed ≥ 0),
 * `accuracy` (every task, values in [0, 1]) and `mean_accuracy` (their mean). Throws {@link QualitySchemaError}.
 */
export function checkQualityReport(doc: unknown): QualityReport {
  const fail = (why: string): never => {
    throw new QualitySchemaError(why);
  };
  const keys = (o: object) => Object.keys(o).sort().join(',');
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) fail('the report is not a JSON object');
  const d = doc as Record<string, unknown>;
  if (keys(d) !== 'base_model,results,tasks')
    fail(`the report's keys are ${keys(d)}; expected base_model, tasks, results`);
  if (typeof d['base_model'] !== 'string' || d['base_model'] === '')
    fail('"base_model" must be a non-empty string');
  const tasks = d['tasks'];
  if (!Array.isArray(tasks) || tasks.length === 0 || !tasks.every((t) => typeof t === 'string'))
    fail('"tasks" must be a non-empty array of task names');
  if (!Array.isArray(d['results'])) fail('"results" must be an array');
  (d['results'] as unknown[]).forEach((r, i) => {
    const at = `results[${i}]`;
    if (typeof r !== 'object' || r === null) fail(`${at} is not an object`);
    const o = r as Record<string, unknown>;
    if (keys(o) !== 'accuracy,mean_accuracy,method,seed,trainable_params')
      fail(`${at} has keys ${keys(o)}; expected method, seed, trainable_params, accuracy, mean_accuracy`);
    if (!STUDY_METHODS.includes(o['method'] as StudyMethod))
      fail(`${at}.method ${JSON.stringify(o['method'])} is not one of ${STUDY_METHODS.join(', ')}`);
    if (!Number.isInteger(o['seed']) || (o['seed'] as number) < 0) fail(`${at}.seed must be an integer ≥ 0`);
    if (!Number.isInteger(o['trainable_params']) || (o['trainable_params'] as number) <= 0)
      fail(`${at}.trainable_params must be a positive integer`);
    const acc = o['accuracy'] as Record<string, unknown>;
    if (typeof acc !== 'object' || acc === null || keys(acc) !== [...(tasks as string[])].sort().join(','))
      fail(`${at}.accuracy must have exactly the tasks ${(tasks as string[]).join(', ')}`);
    for (const t of tasks as string[]) if (!isUnit(acc[t])) fail(`${at}.accuracy.${t} must be in [0, 1]`);
    const mean = (tasks as string[]).reduce((s, t) => s + (acc[t] as number), 0) / (tasks as string[]).length;
    if (!isUnit(o['mean_accuracy']) || Math.abs((o['mean_accuracy'] as number) - mean) > 1e-9)
      fail(`${at}.mean_accuracy must be the mean of its task accuracies (${mean})`);
  });
  return d as unknown as QualityReport;
}
