/** Options of {@link learningRate}. */
export interface LrSchedule {
  kind: 'constant' | 'linear' | 'cosine';
  /** Peak learning rate. */
  lr: number;
  /** Steps of linear warm-up from 0 (default 0). */
  warmupSteps?: number;
  /** Total steps (needed by `linear` and `cosine`). */
  totalSteps?: number;
}

/**
 * Learning rate at `step` (0-based, the step about to be taken), as Hugging Face's schedulers compute it:
 * `constant` (with optional warm-up), `linear` (warm-up then linear decay to 0 at totalSteps; HF
 * get_linear_schedule_with_warmup), `cosine` (warm-up then half a cosine to 0; get_cosine_schedule_with_warmup).
 * Feed the result to the train-step graph's learning-rate input.
 */
export function learningRate(s: LrSchedule, step: number): number {
  const warmup = s.warmupSteps ?? 0;
  if (step < warmup) return (s.lr * step) / Math.max(1, warmup);
  if (s.kind === 'constant') return s.lr;
  const total = s.totalSteps;
  if (total === undefined) throw new RangeError(`the ${s.kind} schedule needs totalSteps`);
  const progress = (step - warmup) / Math.max(1, total - warmup);
  if (s.kind === 'linear') return s.lr * Math.max(0, 1 - progress);
  return s.lr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}
