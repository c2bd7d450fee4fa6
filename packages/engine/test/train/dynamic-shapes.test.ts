import { DataType, decodeModel, tensorValueInfo, type ValueInfoProto } from '@mor/onnx';
import { describe, expect, it } from 'vitest';
import { withoutDynamicShapes } from '../../src/train/dynamic-shapes.js';
import { tinyLlamaBytes } from './helpers.js';

const dims = (v: ValueInfoProto | undefined) => {
  const shape = (v?.type?.value.value as { shape?: { dim: Array<{ value: { value: unknown } }> } }).shape;
  return shape?.dim.map((d) => d.value.value);
};

describe('withoutDynamicShapes', () => {
  it('hides symbolic input shapes, output shapes and value_info while encoding, then restores them', async () => {
    const model = await decodeModel(tinyLlamaBytes());
    const graph = model.graph!;
    graph.input.push(tensorValueInfo('mor.x.A', DataType.FLOAT, [8, 64])); // a parameter: fixed shape
    graph.valueInfo.push(tensorValueInfo('some_value', DataType.FLOAT, ['batch_size', 3]));
    const input = (name: string) => graph.input.find((v) => v.name === name);
    const before = { ids: dims(input('input_ids')), logits: dims(graph.output[0]) };
    expect(before.ids).toEqual(['batch_size', 'sequence_length']);
    const seen = withoutDynamicShapes(model, () => ({
      ids: dims(input('input_ids')),
      param: dims(input('mor.x.A')),
      logits: dims(graph.output[0]),
      valueInfo: graph.valueInfo.length,
    }));
    expect(seen).toEqual({ ids: undefined, param: [8n, 64n], logits: undefined, valueInfo: 0 });
    expect(dims(input('input_ids'))).toEqual(before.ids);
    expect(dims(graph.output[0])).toEqual(before.logits);
    expect(graph.valueInfo).toHaveLength(1);
  });

  it('restores the shapes when encoding throws', async () => {
    const model = await decodeModel(tinyLlamaBytes());
    expect(() =>
      withoutDynamicShapes(model, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(dims(model.graph!.input.find((v) => v.name === 'input_ids'))).toEqual([
      'batch_size',
      'sequence_length',
    ]);
  });
});
