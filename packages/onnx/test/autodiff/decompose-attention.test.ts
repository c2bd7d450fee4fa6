import { clone } from '@bufbuild/protobuf';
import * as ort from 'onnxruntime-node';
import { GraphProtoSchema, TensorProto_DataType as DataType } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { decomposeFusedOps } from '../../src/autodiff/decompose.js';
import { int64Tensor } from '../../src/graph/tensor-data.js';
import { FD_CASES } from './helpers/fd-cases.js';
import { graph, modelBytes, rng } from './helpers/onnx-model.js';

// The decompositions of com.microsoft RotaryEmbedding and GroupQueryAttention compute what onnxruntime's own
// kernels compute (CPU): the same inputs through the fused graph and the decomposed one. (Their gradients are
// checked by finite differences in gradient-rules.test.ts.)

const cases = FD_CASES.filter((c) => /RotaryEmbedding|GroupQueryAttention/.test(c.op));

describe('attention decompositions equal onnxruntime’s kernels', () => {
  it.each(cases.map((c) => [c.label, c] as const))('%s', async (_l, c) => {
    const next = rng(3);
    const g = graph({
      nodes: c.nodes,
      inputs: Object.entries(c.inputs).map(([name, dims]) => ({ name, type: DataType.FLOAT, dims })),
      outputs: c.outputs.map((name) => ({ name, type: DataType.FLOAT })),
    });
    g.initializer.push(
      ...Object.entries(c.ints ?? {}).map(([n, v]) => int64Tensor(n, v.dims, v.values)),
      ...(c.initializers ?? []),
    );
    const decomposed = clone(GraphProtoSchema, g);
    expect(decomposeFusedOps(decomposed)).toBe(1);
    expect(decomposed.node.some((n) => n.domain === 'com.microsoft')).toBe(false);
    const feeds = Object.fromEntries(
      Object.entries(c.inputs).map(([n, dims]) => {
        const size = dims.reduce((a, b) => a * b, 1);
        return [
          n,
          new ort.Tensor(
            'float32',
            Float32Array.from({ length: size }, () => next()),
            dims,
          ),
        ];
      }),
    );
    const [fused, plain] = await Promise.all(
      [g, decomposed].map(async (x) =>
        (await ort.InferenceSession.create(modelBytes(x, 17, true))).run(feeds),
      ),
    );
    for (const o of c.outputs) {
      const [a, b] = [fused![o]!, plain![o]!];
      expect(b.dims).toEqual(a.dims);
      const [fa, fb] = [a.data as Float32Array, b.data as Float32Array];
      let max = 0;
      for (let i = 0; i < fa.length; i++) max = Math.max(max, Math.abs(fa[i]! - fb[i]!));
      expect(max).toBeLessThan(1e-5);
    }
  });
});
