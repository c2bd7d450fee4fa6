import { AdapterFormatError } from '../errors.js';

/** One expected dimension: its size and what it is called in the config (`r`, `num_experts`, `d_in of mor_A.weight`). */
export type Dim = [size: number, label: string];

/**
 * Refuses a tensor whose shape is not exactly `expected`, naming the first disagreeing dimension:
 * `shape [3,4] disagrees with num_experts 4`.
 */
export function expectShape(
  shape: readonly number[],
  expected: readonly Dim[],
  fileName: string,
  tensorName: string,
): void {
  const fail = (detail: string): never => {
    throw new AdapterFormatError(detail, { fileName, tensorName });
  };
  const text = JSON.stringify(shape);
  if (shape.length !== expected.length) {
    fail(
      `shape ${text} should have ${expected.length} dimensions [${expected.map(([, label]) => label).join(', ')}]`,
    );
  }
  expected.forEach(([size, label], i) => {
    if (shape[i] !== size) fail(`shape ${text} disagrees with ${label} ${size}`);
  });
}
