import { MorShapeError } from './errors.js';

/** Dense numeric arrays the reference math reads. Outputs of the public entries are always Float32Array. */
export type NumArray = Float32Array | Float64Array;

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Throws a {@link MorShapeError} unless `dim` is a positive integer. */
export function checkDim(name: string, dim: number): void {
  if (!Number.isInteger(dim) || dim < 1) {
    throw new MorShapeError(`${name}: expected a positive integer dimension, got ${String(dim)}`, {
      tensor: name,
    });
  }
}

/**
 * Throws a {@link MorShapeError} unless the flat array `data` holds exactly `prod(shape)` elements.
 * Flat typed arrays carry no shape, so the element count is all that can be checked; the message names both.
 */
export function checkShape(
  name: string,
  data: ArrayLike<number> | null | undefined,
  shape: readonly number[],
): void {
  const expected = shape.reduce((a, b) => a * b, 1);
  if (data === null || data === undefined) {
    throw new MorShapeError(`${name}: expected a tensor of shape ${fmt(shape)}, got ${String(data)}`, {
      tensor: name,
      expected: shape,
    });
  }
  if (data.length !== expected) {
    throw new MorShapeError(
      `${name}: expected shape ${fmt(shape)} (${expected} elements), got ${data.length} elements`,
      { tensor: name, expected: shape, actual: data.length },
    );
  }
}

/**
 * Number of tokens T in a `[..., dIn]` input flattened to `[T, dIn]`; throws unless `x.length` is a
 * non-zero multiple of `dIn`.
 */
export function tokenCount(name: string, x: ArrayLike<number>, dIn: number): number {
  if (x.length === 0 || x.length % dIn !== 0) {
    throw new MorShapeError(
      `${name}: expected shape [..., ${dIn}] (a non-zero multiple of ${dIn} elements), got ${x.length} elements`,
      { tensor: name, expected: [-1, dIn], actual: x.length },
    );
  }
  return x.length / dIn;
}
