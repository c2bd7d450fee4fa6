// The oracle: what counts as a correct outcome. Hand-written: it encodes this repository's own contract (a
// result or one of our typed errors, with a message a user can act on), which no library knows.

/** A constructor of one of our typed errors. */
export type ErrorClass = abstract new (...args: never[]) => Error;

/** How one input ended. */
export type Outcome =
  | { kind: 'result' }
  | { kind: 'typed'; name: string }
  | { kind: 'failure'; reason: FailureReason; name: string; message: string; stack?: string | undefined };

export type FailureReason = 'uncaught' | 'message' | 'slow' | 'allocation';

/**
 * Messages that show a runtime fault leaking through one of our errors (a wrapped TypeError/RangeError) rather
 * than a sentence about the input.
 */
const LEAKED_INTERNALS =
  /is not a function|Cannot read propert|Cannot set propert|Cannot convert|is not iterable|is not defined|Maximum call stack|Invalid array length|Invalid typed array length|Array buffer allocation failed|out of memory|\[object Object\]/;

/** Classifies what `run` threw (`undefined` for a normal return) against the target's allowed error classes. */
export function classify(
  thrown: unknown,
  threw: boolean,
  allowed: readonly ErrorClass[],
  checkMessage = true,
  allowedNames: readonly string[] = [],
): Outcome {
  if (!threw) return { kind: 'result' };
  const error = thrown instanceof Error ? thrown : undefined;
  const name = error?.constructor?.name ?? typeof thrown;
  const message = error?.message ?? String(thrown);
  if (
    error === undefined ||
    !(allowed.some((cls) => thrown instanceof cls) || allowedNames.includes(error.name))
  ) {
    return { kind: 'failure', reason: 'uncaught', name, message, stack: error?.stack };
  }
  if (message.trim() === '' || (checkMessage && LEAKED_INTERNALS.test(message))) {
    return { kind: 'failure', reason: 'message', name, message, stack: error.stack };
  }
  return { kind: 'typed', name: error.name };
}
