// The fuzz loop. Hand-written: fast-check's property runner shrinks and stops at the first failure; here every
// outcome is counted by class (the figures the README gives), failures are written to replay files, and each
// input is checked against a time limit and for allocations sized by the input.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classify, type Outcome } from './oracle.js';
import { drawInput } from './seeded.js';
import type { FuzzTarget } from './target.js';

/** What a run of one target found. */
export interface TargetSummary {
  target: string;
  seed: number;
  tried: number;
  results: number;
  /** Typed errors by class name. */
  typed: Record<string, number>;
  failures: FailureRecord[];
  /** Failures past the first few are counted, not recorded. */
  failureCount: number;
  ms: number;
}

export interface FailureRecord {
  index: number;
  reason: string;
  name: string;
  message: string;
  stack?: string | undefined;
  file?: string;
  replay: string;
}

export interface RunOptions {
  seed: number;
  /** First input index (a replay of one input: start = index, count = 1). */
  start?: number;
  count: number;
  /** Per-input time limit. */
  limitMs: number;
  /** Where failing inputs are written; none when undefined. */
  outDir?: string | undefined;
  /** Called with the index about to run (the watchdog's heartbeat) and every `progressEvery` inputs. */
  onInput?: (index: number) => void;
  onProgress?: (summary: TargetSummary) => void;
  progressEvery?: number;
  /** Failures recorded in full (the rest are counted). */
  maxRecorded?: number;
}

/**
 * Bytes of ArrayBuffers one input may leave allocated beyond 16 times its own size: a parser that sizes an
 * allocation by a number in the input (a 2^40 header length, a tensor's claimed element count) shows up here
 * even when the allocation is lazily zeroed and never touches resident memory.
 */
export const ALLOCATION_SLACK_BYTES = 64 * 1024 * 1024;

const REPLAY = 'node tooling/fuzz/bin/fuzz.mjs';

/** Runs inputs `start … start + count − 1` of `target` and counts the outcomes. */
export async function runTarget(target: FuzzTarget, options: RunOptions): Promise<TargetSummary> {
  const { seed, count, limitMs } = options;
  const start = options.start ?? 0;
  const context = await target.setup();
  const arbitrary = target.inputs(context);
  const summary: TargetSummary = {
    target: target.name,
    seed,
    tried: 0,
    results: 0,
    typed: {},
    failures: [],
    failureCount: 0,
    ms: 0,
  };
  const t0 = performance.now();
  for (let index = start; index < start + count; index++) {
    options.onInput?.(index);
    const input = drawInput(arbitrary, seed, index);
    const outcome = await runOne(target, input, context, limitMs);
    record(summary, outcome, target, input, index, options);
    if (options.onProgress && summary.tried % (options.progressEvery ?? 100_000) === 0) {
      summary.ms = performance.now() - t0;
      options.onProgress(summary);
    }
  }
  summary.ms = performance.now() - t0;
  return summary;
}

/** Runs one input given as replay-file bytes. */
export async function replayInput(target: FuzzTarget, bytes: Uint8Array, limitMs: number): Promise<Outcome> {
  const context = await target.setup();
  return runOne(target, target.decode(bytes), context, limitMs);
}

async function runOne(
  target: FuzzTarget,
  input: unknown,
  context: unknown,
  limitMs: number,
): Promise<Outcome> {
  const before = process.memoryUsage().arrayBuffers;
  const t = performance.now();
  let threw = false;
  let thrown: unknown;
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = target.run(input, context);
    if (value instanceof Promise) {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new SlowInput(limitMs)), limitMs);
      });
      await Promise.race([value, timeout]);
    }
  } catch (error) {
    threw = true;
    thrown = error;
  } finally {
    clearTimeout(timer);
  }
  const elapsed = performance.now() - t;
  const grown = process.memoryUsage().arrayBuffers - before;
  if (thrown instanceof SlowInput || elapsed > limitMs) {
    return {
      kind: 'failure',
      reason: 'slow',
      name: 'Timeout',
      message: `took ${Math.round(elapsed)} ms (limit ${limitMs} ms)`,
    };
  }
  if (grown > ALLOCATION_SLACK_BYTES + 16 * target.size(input)) {
    return {
      kind: 'failure',
      reason: 'allocation',
      name: 'Allocation',
      message: `left ${grown} bytes of ArrayBuffers allocated for a ${target.size(input)}-byte input`,
    };
  }
  return classify(thrown, threw, target.allowed, !target.foreignMessages, target.allowedNames);
}

class SlowInput extends Error {
  constructor(limitMs: number) {
    super(`no answer within ${limitMs} ms`);
  }
}

function record(
  summary: TargetSummary,
  outcome: Outcome,
  target: FuzzTarget,
  input: unknown,
  index: number,
  options: RunOptions,
): void {
  summary.tried++;
  if (outcome.kind === 'result') summary.results++;
  else if (outcome.kind === 'typed') summary.typed[outcome.name] = (summary.typed[outcome.name] ?? 0) + 1;
  else {
    summary.failureCount++;
    if (summary.failures.length >= (options.maxRecorded ?? 10)) return;
    const failure: FailureRecord = {
      index,
      reason: outcome.reason,
      name: outcome.name,
      message: outcome.message.slice(0, 500),
      stack: outcome.stack?.split('\n').slice(0, 8).join('\n'),
      replay: `${REPLAY} --target ${target.name} --seed ${summary.seed} --index ${index}`,
    };
    if (options.outDir !== undefined) {
      mkdirSync(options.outDir, { recursive: true });
      const file = join(options.outDir, `${target.name}-s${summary.seed}-i${index}.bin`);
      writeFileSync(file, target.encode(input));
      failure.file = file;
      failure.replay += `   (or: ${REPLAY} --target ${target.name} --replay ${file})`;
    }
    summary.failures.push(failure);
  }
}
