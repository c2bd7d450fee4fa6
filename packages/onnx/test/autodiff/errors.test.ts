import { TensorProto_DataType as DataType } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/autodiff/build-gradient-graph.js';
import { AutodiffError } from '../../src/autodiff/errors.js';
import { int64Tensor } from '../../src/autodiff/tensors.js';
import { graph, node } from './helpers/onnx-model.js';

const F = DataType.FLOAT;
const io = { inputs: [{ name: 'x', type: F, dims: [2, 3] }], outputs: [{ name: 'loss', type: F, dims: [] }] };

describe('autodiff errors', () => {
  it('names the op type, domain and node of an op without a rule on the path', () => {
    const g = graph({
      ...io,
      nodes: [
        node('Mul', ['x', 'x'], ['a']),
        node('Frobnicate', ['a'], ['b'], {}, 'com.example'),
        node('ReduceSum', ['b'], ['loss'], { keepdims: 0 }),
      ],
    });
    const run = () => buildGradientGraph(g, { loss: 'loss', wrt: ['x'] });
    expect(run).toThrow(AutodiffError);
    expect(run).toThrow(/no gradient rule for Frobnicate \(com\.example\) node "Frobnicate_b"/);
  });

  it('points at decomposeFusedOps for a fused op', () => {
    const g = graph({
      inputs: [...io.inputs, { name: 's', type: F, dims: [3] }],
      outputs: io.outputs,
      nodes: [
        node('SkipSimplifiedLayerNormalization', ['x', 'x', 's'], ['a'], {}, 'com.microsoft'),
        node('ReduceSum', ['a'], ['loss'], { keepdims: 0 }),
      ],
    });
    expect(() => buildGradientGraph(g, { loss: 'loss', wrt: ['x'] })).toThrow(
      /SkipSimplifiedLayerNormalization \(com\.microsoft\).*decomposeFusedOps/,
    );
  });

  it('ignores ops without a rule that are off the path, and stops at shape (NO_GRADIENT) ops', () => {
    const g = graph({
      ...io,
      nodes: [
        node('Shape', ['x'], ['s']),
        node('Frobnicate', ['s'], ['t'], {}, 'com.example'), // integer path: never differentiated
        node('Cast', ['t'], ['tf'], { to: F }),
        node('Mul', ['x', 'tf'], ['a']),
        node('ReduceSum', ['a'], ['loss'], { keepdims: 0 }),
      ],
    });
    const { differentiated } = buildGradientGraph(g, { loss: 'loss', wrt: ['x'] });
    expect(differentiated.map((n) => n.opType)).toEqual(['Mul', 'ReduceSum']);
  });

  it('refuses a wrt tensor that reaches the loss only through shape ops', () => {
    const g = graph({
      ...io,
      nodes: [
        node('Shape', ['x'], ['s']),
        node('Cast', ['s'], ['sf'], { to: F }),
        node('ReduceSum', ['sf'], ['loss'], { keepdims: 0 }),
      ],
    });
    expect(() => buildGradientGraph(g, { loss: 'loss', wrt: ['x'] })).toThrow(/"x" does not reach the loss/);
  });

  it('refuses Gather gradients when the opset has no ScatterElements reduction', () => {
    const g = graph({
      ...io,
      nodes: [
        node('Gather', ['x', 'i'], ['a'], { axis: 1 }),
        node('ReduceSum', ['a'], ['loss'], { keepdims: 0 }),
      ],
    });
    g.initializer.push(int64Tensor('i', [0, 0], [2]));
    expect(() => buildGradientGraph(g, { loss: 'loss', wrt: ['x'], opset: 15 })).toThrow(/opset 16\+/);
  });
});
