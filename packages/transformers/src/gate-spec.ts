import { MorInputError } from '@mor/engine';

/**
 * A fixed gate for a MoR adapter (docs/cli.md `--gate SPEC`): `'uniform'`, the name of an entry in the
 * adapter's `static_gates`, or N numbers. A fixed gate replaces the router (static routing, mor-spec.md §1).
 */
export type GateSpec = 'uniform' | string | readonly number[];

/** Turns a {@link GateSpec} into N gate values for an adapter with `experts` experts and these named gates. */
export function resolveGate(
  spec: GateSpec,
  experts: number,
  staticGates: Record<string, readonly number[]>,
): number[] {
  let gate: readonly number[];
  if (Array.isArray(spec)) {
    gate = spec;
  } else if (spec === 'uniform') {
    gate = new Array<number>(experts).fill(1 / experts);
  } else if (typeof spec === 'string' && spec.trim().startsWith('[')) {
    // The CLI passes a JSON array as text.
    let parsed: unknown;
    try {
      parsed = JSON.parse(spec);
    } catch {
      throw new MorInputError(`gate ${spec} is not valid JSON`);
    }
    if (!Array.isArray(parsed)) throw new MorInputError(`gate ${spec} is not a JSON array`);
    gate = parsed as number[];
  } else {
    const named = staticGates[spec as string];
    if (!named) {
      const names = ['uniform', ...Object.keys(staticGates)];
      throw new MorInputError(
        `unknown gate "${String(spec)}": expected a JSON array of ${experts} numbers or one of ${names.join(', ')}`,
      );
    }
    gate = named;
  }
  if (gate.length !== experts || !gate.every((g) => typeof g === 'number' && Number.isFinite(g))) {
    throw new MorInputError(
      `a gate needs ${experts} finite numbers (one per expert), got ${JSON.stringify(gate)}`,
    );
  }
  return [...gate];
}
