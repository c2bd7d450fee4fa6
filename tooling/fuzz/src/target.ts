import type fc from 'fast-check';
import type { ErrorClass } from './oracle.js';

/**
 * One fuzz target: a parser of untrusted input, the errors it may throw, and how its inputs are drawn. Inputs
 * round-trip through bytes so a failing one can be written to a file and replayed.
 */
export interface FuzzTarget<I = unknown, C = unknown> {
  name: string;
  /** One line for `--list` and the summary. */
  description: string;
  /** Our typed errors this parser may throw; anything else is a failure. */
  allowed: readonly ErrorClass[];
  /** Typed errors of packages that do not export the class (the CLI's `CliError`), by `name`. */
  allowedNames?: readonly string[];
  /** The messages quote a library's own reason (transformers.js): skip the check for leaked runtime faults. */
  foreignMessages?: boolean;
  /** Loads seeds (fixtures) once per worker. */
  setup(): Promise<C>;
  /** Mutated seeds and structure-aware generated inputs. */
  inputs(context: C): fc.Arbitrary<I>;
  run(input: I, context: C): unknown;
  /** The input as the bytes of a replay file, and back. */
  encode(input: I): Uint8Array;
  decode(bytes: Uint8Array): I;
  /** Size of the input in bytes, for the allocation check. */
  size(input: I): number;
}

/** Fixes the type parameters at the definition and erases them for the registry. */
export function defineTarget<I, C>(target: FuzzTarget<I, C>): FuzzTarget {
  return target as unknown as FuzzTarget;
}
