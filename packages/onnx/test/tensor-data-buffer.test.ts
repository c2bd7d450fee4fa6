import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema, TensorProto_DataType } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { tensorToFloat32 } from '../src/index.js';

// decodeModel of a Node Buffer (readFileSync) gives raw_data that are Buffer views into the file's memory, at any
// byte offset. An unaligned float tensor must be copied out of its own bytes, not read from the start of the
// Buffer's backing memory (Buffer.prototype.slice is a view, not a copy).
describe('tensorToFloat32 of raw_data in a Node Buffer', () => {
  it('reads an unaligned float tensor from its own bytes', () => {
    const values = Float32Array.of(0.5, -1.25, 3, 1e-3);
    const file = Buffer.alloc(64, 0xff);
    file.set(new Uint8Array(values.buffer), 6); // offset 6: not a multiple of 4
    const rawData = file.subarray(6, 6 + 16);
    expect(rawData.byteOffset % 4).not.toBe(0);
    const t = create(TensorProtoSchema, {
      name: 'w',
      dims: [4n],
      dataType: TensorProto_DataType.FLOAT,
      rawData,
    });
    expect(Array.from(tensorToFloat32(t))).toEqual(Array.from(values));
  });
});
