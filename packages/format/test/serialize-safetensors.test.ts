import { describe, expect, it } from 'vitest';
import { SafetensorsError, parseSafetensors, serializeSafetensors, tensorToFloat32 } from '../src/index.js';
import { fixtureWeights, toWritable } from './helpers.js';

function headerText(bytes: Uint8Array): string {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(bytes.subarray(8, 8 + n));
}

describe('serializeSafetensors', () => {
  it('lays the file out like the reference writer: metadata first, F32 > BF16 > F16, then by name, padded to 8', () => {
    const bytes = serializeSafetensors(
      [
        { name: 'z', dtype: 'F16', shape: [1], data: new Float32Array([1]) },
        { name: 'b', dtype: 'F32', shape: [1], data: new Float32Array([2]) },
        { name: 'y', dtype: 'BF16', shape: [1], data: new Float32Array([3]) },
        { name: '10', dtype: 'F32', shape: [1], data: new Float32Array([4]) },
        { name: '9', dtype: 'F32', shape: [1], data: new Float32Array([5]) },
      ],
      { format: 'pt', a: 'x' },
    );
    const text = headerText(bytes);
    expect(text.trimEnd()).toBe(
      '{"__metadata__":{"a":"x","format":"pt"},' +
        '"10":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"9":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},' +
        '"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"y":{"dtype":"BF16","shape":[1],"data_offsets":[12,14]},' +
        '"z":{"dtype":"F16","shape":[1],"data_offsets":[14,16]}}',
    );
    expect(text.length % 8).toBe(0);
    expect(text.length - text.trimEnd().length).toBeLessThan(8);
    const file = parseSafetensors(bytes);
    expect([...file.tensors.keys()]).toEqual(['10', '9', 'b', 'y', 'z']);
    expect([...file.tensors.values()].map((t) => tensorToFloat32(t)[0])).toEqual([4, 5, 2, 3, 1]);
  });

  it('writes no __metadata__ when none is given', () => {
    const text = headerText(
      serializeSafetensors([{ name: 'a', dtype: 'F32', shape: [], data: new Float32Array([1]) }]),
    );
    expect(text.trimEnd()).toBe('{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}');
  });

  it('rounds Float32Array data to F16/BF16 to nearest even', () => {
    const values = new Float32Array([1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, -(2 ** -25) * 1.5, 1 + 2 ** -8]);
    const bytes = serializeSafetensors([
      { name: 'h', dtype: 'F16', shape: [5], data: values },
      { name: 'b', dtype: 'BF16', shape: [5], data: values },
    ]);
    const file = parseSafetensors(bytes);
    const bits = (name: string) => [...new Uint16Array(file.tensors.get(name)!.data.slice().buffer)];
    expect(bits('h')).toEqual([0x3c00, 0x3c02, 0x7c00, 0x8001, 0x3c04]);
    expect(bits('b')).toEqual([0x3f80, 0x3f80, 0x4780, 0xb340, 0x3f80]); // 1 + 2^-8 is a BF16 tie → even
  });

  it('converts F16/BF16 data back and forth without drift', () => {
    const values = new Float32Array(
      Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10 ** ((i % 9) - 4)),
    );
    for (const dtype of ['F16', 'BF16'] as const) {
      const once = serializeSafetensors([{ name: 'w', dtype, shape: [1000], data: values }]);
      const decoded = tensorToFloat32(parseSafetensors(once).tensors.get('w')!);
      const twice = serializeSafetensors([{ name: 'w', dtype, shape: [1000], data: decoded }]);
      expect(twice).toEqual(once);
      const tolerance = dtype === 'F16' ? 2 ** -11 : 2 ** -8;
      decoded.forEach((v, i) => {
        if (Math.abs(values[i]!) > 1e-4)
          expect(Math.abs(v - values[i]!)).toBeLessThanOrEqual(Math.abs(values[i]!) * tolerance);
      });
    }
  });

  it('writes raw bytes as given and checks their length', () => {
    const raw = new Uint8Array([0x00, 0x3c, 0x00, 0xc0]);
    const file = parseSafetensors(serializeSafetensors([{ name: 'h', dtype: 'F16', shape: [2], data: raw }]));
    expect([...tensorToFloat32(file.tensors.get('h')!)]).toEqual([1, -2]);
    expect(() => serializeSafetensors([{ name: 'h', dtype: 'F16', shape: [3], data: raw }])).toThrow(
      "tensor 'h': shape [3] needs 3 values, got 2",
    );
  });

  it('refuses duplicate or reserved names, bad shapes, unwritable dtypes', () => {
    const t = (name: string) => ({ name, dtype: 'F32' as const, shape: [1], data: new Float32Array([0]) });
    expect(() => serializeSafetensors([t('a'), t('a')])).toThrow(
      new SafetensorsError('given twice', { tensorName: 'a' }),
    );
    expect(() => serializeSafetensors([t('__metadata__')])).toThrow(
      "tensor '__metadata__': is not a usable tensor name",
    );
    expect(() => serializeSafetensors([{ ...t('a'), shape: [0.5] }])).toThrow(
      "tensor 'a': shape [0.5] is not valid",
    );
    const i64 = { ...t('a'), dtype: 'I64' } as unknown as Parameters<typeof serializeSafetensors>[0][0];
    expect(() => serializeSafetensors([i64])).toThrow('cannot write dtype "I64"');
  });

  it('reproduces the PEFT-written fixture files byte for byte from their values', () => {
    for (const dir of ['tiny-llama/mor-adapter', 'tiny-llama/peft-lora']) {
      const original = fixtureWeights(dir);
      const file = parseSafetensors(original);
      const asValues = [...file.tensors.values()].map((t) => ({
        ...toWritable(t),
        data: tensorToFloat32(t),
      }));
      expect(serializeSafetensors(asValues.reverse(), file.metadata)).toEqual(original);
    }
  });
});
