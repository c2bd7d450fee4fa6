import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema, NodeProtoSchema, TensorProto_DataType } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, GraphError, tensorToFloat32, tensorToInts } from '../src/index.js';

const graphWith = (...ops: [string, string[], string[]][]) =>
  create(GraphProtoSchema, {
    node: ops.map(([opType, input, output]) =>
      create(NodeProtoSchema, { opType, name: output[0], input, output }),
    ),
  });

describe('GraphBuilder', () => {
  it('deduplicates constants by type and value, never against a name already in the graph', () => {
    const g = graphWith(['Relu', ['x'], ['/s/const']]);
    const b = new GraphBuilder(g, { scope: '/s', opset: 17 });
    const [two, twoAgain, twoInt, pair] = [b.f(2), b.f(2), b.i64(2), b.i64([2, 3])];
    expect(two).toBe(twoAgain);
    expect(new Set([two, twoInt, pair, '/s/const']).size).toBe(4);
    expect(g.initializer.map((t) => t.dataType)).toEqual([
      TensorProto_DataType.FLOAT,
      TensorProto_DataType.INT64,
      TensorProto_DataType.INT64,
    ]);
    expect(Array.from(tensorToFloat32(g.initializer[0]!))).toEqual([2]);
    expect(tensorToInts(g.initializer[2]!)).toEqual([2, 3]);
    expect(g.initializer[0]!.dims).toEqual([]); // one number is a scalar
  });

  it('places nodes in emission order after or before an anchor; explicit outputs keep their names', () => {
    const g = graphWith(['Relu', ['x'], ['a']], ['Neg', ['a'], ['b']]);
    const [relu, neg] = [g.node[0]!, g.node[1]!];
    const after = new GraphBuilder(g, { scope: '/after', opset: 17, place: { after: relu } });
    after.op1('Exp', [after.op1('Abs', ['a'])], {}, 'e');
    const before = new GraphBuilder(g, { scope: '/before', opset: 17, place: { before: neg } });
    before.op1('Sin', ['a']);
    new GraphBuilder(g, { scope: '', opset: 17 }).op1('Cos', ['b']);
    expect(g.node.map((n) => `${n.name}:${n.output.join()}`)).toEqual([
      'a:a',
      '/after/Abs:/after/Abs_output_0',
      '/after/Exp:e',
      '/before/Sin:/before/Sin_output_0',
      'b:b',
      'Cos:Cos_output_0',
    ]);
    const stray = new GraphBuilder(g, { scope: '/x', opset: 17, place: { after: create(NodeProtoSchema) } });
    expect(() => stray.op1('Relu', ['a'])).toThrow(GraphError);
  });

  it('cancels a transpose of its own transpose, and emits the opset form of Unsqueeze', () => {
    const g = graphWith();
    const b = new GraphBuilder(g, { scope: '/t', opset: 11 });
    const t = b.transpose('w', [1, 2, 0]);
    expect(b.transpose(t, [2, 0, 1])).toBe('w');
    expect(b.transpose(t, [1, 2, 0])).not.toBe('w');
    b.unsqueeze('w', [0]);
    const unsqueeze = g.node.find((n) => n.opType === 'Unsqueeze')!;
    expect([unsqueeze.input.length, unsqueeze.attribute[0]!.name]).toEqual([1, 'axes']);
  });
});
