import { describe, expect, it } from 'vitest';
import { MAX_HEADER_BYTES, SafetensorsError, parseSafetensors, tensorToFloat32 } from '../src/index.js';
import { entry, rawSafetensors } from './helpers.js';

const FILE = 'x.safetensors';
const parse = (bytes: Uint8Array) => parseSafetensors(bytes, { fileName: FILE });

/** The error `fn` throws, checked to be a SafetensorsError. */
function refusal(fn: () => unknown): SafetensorsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SafetensorsError);
    return error as SafetensorsError;
  }
  throw new Error('expected a refusal');
}

const f32Bytes = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

describe('parseSafetensors', () => {
  it('reads metadata and tensors in header order, data as views into the bytes', () => {
    const bytes = rawSafetensors(
      // Text, not an object: a JS object literal would itself move '2' before '10'.
      `{"__metadata__":{"format":"pt"},"10":${JSON.stringify(entry('F32', [2], 0, 8))},` +
        `"2":${JSON.stringify(entry('U8', [3], 8, 11))},"b":${JSON.stringify(entry('F32', [], 11, 15))}}`,
      new Uint8Array([...f32Bytes([1.5, -2]), 7, 8, 9, ...f32Bytes([3])]),
    );
    const file = parse(bytes);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect([...file.tensors.keys()]).toEqual(['10', '2', 'b']); // integer-like names keep file order
    const t10 = file.tensors.get('10')!;
    expect(t10).toMatchObject({ name: '10', dtype: 'F32', shape: [2] });
    expect(t10.data.buffer).toBe(bytes.buffer);
    expect([...tensorToFloat32(t10)]).toEqual([1.5, -2]);
    expect([...file.tensors.get('2')!.data]).toEqual([7, 8, 9]);
    expect([...tensorToFloat32(file.tensors.get('b')!)]).toEqual([3]); // unaligned F32 is copied, same values
  });

  it('returns a zero-copy view for aligned F32 and converts F16, BF16, F64', () => {
    const data = new Uint8Array(8 + 4 + 4 + 16);
    const view = new DataView(data.buffer);
    view.setFloat32(0, 0.25, true);
    view.setFloat32(4, -1, true);
    view.setUint16(8, 0x3c00, true); // F16 1
    view.setUint16(10, 0x0001, true); // F16 smallest subnormal
    view.setUint16(12, 0x3f80, true); // BF16 1
    view.setUint16(14, 0xc040, true); // BF16 -3
    view.setFloat64(16, 0.1, true);
    view.setFloat64(24, 1e300, true);
    const header = {
      a: entry('F32', [2], 0, 8),
      h: entry('F16', [2], 8, 12),
      b: entry('BF16', [2], 12, 16),
      d: entry('F64', [2], 16, 32),
    };
    let bytes = rawSafetensors(header, data);
    const pad = (8 - ((bytes.length - data.length) % 8)) % 8; // align the data section like real files do
    bytes = rawSafetensors(JSON.stringify(header) + ' '.repeat(pad), data);
    const file = parse(bytes);
    const a = tensorToFloat32(file.tensors.get('a')!);
    expect([...a]).toEqual([0.25, -1]);
    expect(a.buffer).toBe(bytes.buffer);
    expect([...tensorToFloat32(file.tensors.get('h')!)]).toEqual([1, 2 ** -24]);
    expect([...tensorToFloat32(file.tensors.get('b')!)]).toEqual([1, -3]);
    expect([...tensorToFloat32(file.tensors.get('d')!)]).toEqual([Math.fround(0.1), Infinity]);
  });

  it('refuses to convert a non-float dtype, naming the tensor', () => {
    const file = parse(rawSafetensors({ ids: entry('I32', [1], 0, 4) }, 4));
    expect(refusal(() => tensorToFloat32(file.tensors.get('ids')!, { fileName: FILE })).message).toBe(
      "x.safetensors: tensor 'ids': dtype I32 cannot be converted to float32 (only F32, F16, BF16, F64)",
    );
  });

  it('refuses a truncated file', () => {
    const e = refusal(() => parse(new Uint8Array(5)));
    expect(e.message).toBe('x.safetensors: file is 5 bytes, too short to hold the 8-byte header length');
    expect(e.fileName).toBe(FILE);
  });

  it('refuses a header length larger than the file', () => {
    expect(refusal(() => parse(rawSafetensors({}, 0, 1000n))).message).toMatch(
      /^x\.safetensors: header length 1000 runs past the end of the file \(10 bytes\)$/,
    );
  });

  it('refuses a header length over the 100 MB limit', () => {
    expect(MAX_HEADER_BYTES).toBe(100_000_000);
    const e = refusal(() => parse(rawSafetensors({}, 0, BigInt(MAX_HEADER_BYTES) + 1n)));
    expect(e.message).toContain('x.safetensors: header length 100000001 is over the 100000000-byte limit');
    expect(refusal(() => parse(rawSafetensors({}, 0, 2n ** 64n - 1n))).message).toContain('over the');
  });

  it('refuses a header that is not JSON, not an object, or not UTF-8', () => {
    expect(refusal(() => parse(rawSafetensors('{"a": ', 0))).message).toMatch(
      /^x\.safetensors: header is not valid JSON: /,
    );
    expect(refusal(() => parse(rawSafetensors('[1, 2]', 0))).message).toBe(
      'x.safetensors: header is not a JSON object',
    );
    const bad = rawSafetensors('{"\u00e9":1}');
    bad[10] = 0xff; // break the UTF-8 sequence of é
    expect(refusal(() => parse(bad)).message).toBe('x.safetensors: header is not valid UTF-8');
  });

  it('refuses duplicate tensor names (which JSON.parse would silently merge)', () => {
    const text =
      '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    const e = refusal(() => parse(rawSafetensors(text, 8)));
    expect(e.message).toBe("x.safetensors: tensor 'w': named twice in the header");
    expect(e.tensorName).toBe('w');
    // An escaped spelling of the same name is the same name.
    const escaped = text.replace(
      '"w":{"dtype":"F32","shape":[1],"data_offsets":[4',
      '"\\u0077":{"dtype":"F32","shape":[1],"data_offsets":[4',
    );
    expect(refusal(() => parse(rawSafetensors(escaped, 8))).message).toContain("tensor 'w': named twice");
    // Keys of nested objects are not top-level names.
    const nested = '{"__metadata__":{"w":"1"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expect([...parse(rawSafetensors(nested, 4)).tensors.keys()]).toEqual(['w']);
  });

  it('refuses an unknown dtype, listing the known ones', () => {
    const e = refusal(() => parse(rawSafetensors({ q: entry('Q4_K', [2], 0, 1) }, 1)));
    expect(e.message).toMatch(
      /^x\.safetensors: tensor 'q': unknown dtype "Q4_K" \(known: F64, F32, F16, BF16/,
    );
  });

  it('refuses a shape whose size disagrees with the data offsets', () => {
    const e = refusal(() => parse(rawSafetensors({ w: entry('F16', [2, 3], 0, 8) }, 8)));
    expect(e.message).toBe(
      "x.safetensors: tensor 'w': shape [2,3] of F16 needs 12 bytes but data_offsets [0,8] hold 8",
    );
  });

  it('refuses malformed shapes and offsets', () => {
    expect(refusal(() => parse(rawSafetensors({ w: entry('F32', [-1], 0, 4) }, 4))).message).toContain(
      "tensor 'w': shape [-1] is not a list of non-negative integers",
    );
    expect(refusal(() => parse(rawSafetensors({ w: entry('F32', [1], 8, 4) }, 8))).message).toContain(
      "tensor 'w': data_offsets [8,4] is not a pair [begin, end] with 0 ≤ begin ≤ end",
    );
    expect(refusal(() => parse(rawSafetensors({ w: [1] }, 0))).message).toContain(
      "tensor 'w': header entry is not an object",
    );
  });

  it('refuses overlapping offsets, naming both tensors', () => {
    const e = refusal(() =>
      parse(rawSafetensors({ a: entry('F32', [2], 0, 8), b: entry('F32', [2], 4, 12) }, 12)),
    );
    expect(e.message).toBe("x.safetensors: tensor 'b': data_offsets [4,12] overlap tensor 'a' [0,8]");
  });

  it('refuses a gap between tensors', () => {
    const e = refusal(() =>
      parse(rawSafetensors({ a: entry('F32', [1], 0, 4), b: entry('F32', [1], 8, 12) }, 12)),
    );
    expect(e.message).toBe(
      "x.safetensors: tensor 'b': data_offsets [8,12] leave a gap: bytes [4,8) belong to no tensor",
    );
  });

  it('refuses offsets past the end of the file', () => {
    const e = refusal(() => parse(rawSafetensors({ a: entry('F32', [4], 0, 16) }, 8)));
    expect(e.message).toBe(
      "x.safetensors: tensor 'a': data_offsets [0,16] run past the end of the file (data section is 8 bytes)",
    );
  });

  it('refuses bytes after the last tensor', () => {
    const e = refusal(() => parse(rawSafetensors({ a: entry('F32', [1], 0, 4) }, 12)));
    expect(e.message).toBe('x.safetensors: 8 bytes after the last tensor (offset 4) belong to no tensor');
  });

  it('refuses metadata that is not string to string', () => {
    expect(refusal(() => parse(rawSafetensors({ __metadata__: { n: 1 } }))).message).toBe(
      'x.safetensors: __metadata__ value for "n" is not a string',
    );
  });

  it('accepts an empty file and zero-size tensors', () => {
    expect(parse(rawSafetensors({})).tensors.size).toBe(0);
    const file = parse(rawSafetensors({ e: entry('F32', [0, 3], 0, 0), a: entry('F32', [1], 0, 4) }, 4));
    expect(file.tensors.get('e')!.data.length).toBe(0);
  });

  it('names a default file when none is given', () => {
    expect(refusal(() => parseSafetensors(new Uint8Array(2))).message).toMatch(
      /^<safetensors>: file is 2 bytes/,
    );
  });
});
