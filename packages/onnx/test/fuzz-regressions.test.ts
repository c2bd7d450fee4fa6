// Tensors the fuzz harness (tooling/fuzz) found, minimized: dims that disagree with the data once escaped
// tensorToFloat32 / tensorToInts as RangeError (reading past the data) or allocated by the dims (2^30 halves).
import { describe, expect, it } from 'vitest';
import {
  DataType,
  GraphError,
  floatTensor,
  int64Tensor,
  tensorToFloat32,
  tensorToInts,
} from '../src/index.js';

function refusal(fn: () => unknown): GraphError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphError);
    return error as GraphError;
  }
  throw new Error('expected a refusal');
}

describe('tensor reads of dims that disagree with the data', () => {
  it('refuses dims [2^40] over 4 bytes of FLOAT data, naming the tensor, without allocating', () => {
    const t = floatTensor('w', [1], [1]);
    t.dims = [2n ** 40n];
    const before = process.memoryUsage().arrayBuffers;
    expect(refusal(() => tensorToFloat32(t)).message).toBe(
      'w: dims [1099511627776] need 1099511627776 elements of 4 bytes, but raw_data holds 4 bytes',
    );
    t.dataType = DataType.FLOAT16;
    t.dims = [2n ** 30n];
    refusal(() => tensorToFloat32(t));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
  });

  it('refuses INT64 dims that need more than raw_data holds, and negative dims', () => {
    const t = int64Tensor('shape', [2], [4, 5]);
    t.dims = [3n];
    expect(refusal(() => tensorToInts(t)).message).toBe(
      'shape: dims [3] need 3 elements of 8 bytes, but raw_data holds 16 bytes',
    );
    t.dims = [-2n];
    expect(refusal(() => tensorToInts(t)).message).toBe('shape: dims [-2] hold a negative size');
  });

  it('refuses typed data (float_data) of the wrong length', () => {
    const t = floatTensor('b', [2], [1, 2]);
    t.rawData = new Uint8Array(0);
    t.floatData = [1, 2, 3];
    expect(refusal(() => tensorToFloat32(t)).message).toBe(
      'b: dims [2] need 2 elements, but the tensor holds 3 values',
    );
  });

  it('still reads tensors whose data matches their dims', () => {
    expect([...tensorToFloat32(floatTensor('x', [2], [1.5, -2]))]).toEqual([1.5, -2]);
    expect(tensorToInts(int64Tensor('s', [2], [4, 5]))).toEqual([4, 5]);
    expect([...tensorToFloat32(floatTensor('e', [0], []))]).toEqual([]);
  });
});
