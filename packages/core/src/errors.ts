/** A MoR configuration value is out of range or of the wrong type. `field` names the offending key. */
export class MorConfigError extends Error {
  override name = 'MorConfigError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`invalid MoR config: ${field}: ${message}`);
  }
}

/** Where a shape mismatch was found: which tensor, and what it should have been. */
export interface MorShapeErrorContext {
  /** Name of the offending tensor, e.g. `"weights.omegaB"`. */
  readonly tensor: string;
  /** Expected shape (dimensions), when one can be stated. */
  readonly expected?: readonly number[];
  /** What was received: a shape, or an element count when only a flat array was given. */
  readonly actual?: readonly number[] | number;
}

/** Tensors handed to the reference math have shapes that do not fit together. */
export class MorShapeError extends Error {
  override name = 'MorShapeError';
  /** The tensor at fault, when known. */
  readonly tensor: string | undefined;
  readonly expected: readonly number[] | undefined;
  readonly actual: readonly number[] | number | undefined;
  constructor(message: string, context?: MorShapeErrorContext) {
    super(message);
    this.tensor = context?.tensor;
    this.expected = context?.expected;
    this.actual = context?.actual;
  }
}
