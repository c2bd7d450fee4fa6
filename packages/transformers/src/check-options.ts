import { MorInputError } from '@mor/engine';

/**
 * Every option name of an options type, each `true`: `satisfies OptionNames<T>` makes the compiler keep the list
 * and the interface in step (a missing or extra name does not compile), so the runtime check below cannot drift.
 */
export type OptionNames<T> = { readonly [K in keyof Required<T>]: true };

/** Edit distance of two short names (option names: a dozen characters). */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** The valid name closest to `name` (`max_steps` → `maxSteps`, `learningRate` → `lr` is too far), or null. */
function closest(name: string, valid: readonly string[]): string | null {
  const plain = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const same = valid.find((v) => plain(v) === plain(name));
  if (same) return same;
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const v of valid) {
    const d = distance(plain(name), plain(v));
    if (d < bestDistance) [best, bestDistance] = [v, d];
  }
  return best;
}

/**
 * Refuses keys of a public options object that the function does not know: TypeScript catches them only in typed
 * object literals, and a JavaScript caller's `max_steps` would otherwise be ignored silently (the run takes the
 * default). Keys whose value is `undefined` count as absent.
 *
 * @throws {MorInputError} `trainAdapter: unknown option "max_steps" (did you mean "maxSteps"?); valid options: …`
 */
export function checkOptions<T extends object>(fn: string, options: T, names: OptionNames<T>): void {
  if (typeof options !== 'object' || options === null) {
    throw new MorInputError(
      `${fn}: options must be an object, got ${options === null ? 'null' : typeof options}`,
    );
  }
  const valid = Object.keys(names);
  const unknown = Object.keys(options).filter(
    (k) => !valid.includes(k) && (options as Record<string, unknown>)[k] !== undefined,
  );
  if (unknown.length === 0) return;
  const described = unknown.map((k) => {
    const hint = closest(k, valid);
    return `"${k}"${hint ? ` (did you mean "${hint}"?)` : ''}`;
  });
  throw new MorInputError(
    `${fn}: unknown option${unknown.length > 1 ? 's' : ''} ${described.join(', ')}; valid options: ${valid.join(', ')}`,
  );
}
