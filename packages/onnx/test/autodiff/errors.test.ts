import { TensorProto_DataType as DataType } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/autodiff/build-gradient-graph.js';
import { addCausalLmLoss } from '../../src/autodiff/losses/causal-lm-loss.js';
import { AutodiffError } from '../../src/autodiff/errors.js';
import { int64Tensor } from '../../src/graph/tensor-data.js';
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

  it('reads a node whose domain is spelled ai.onnx as the default domain (Shape stays NO_GRADIENT)', () => {
    const g = graph({
      ...io,
      nodes: [
        node('Shape', ['x'], ['s'], {}, 'ai.onnx'),
        node('Cast', ['s'], ['sf'], { to: F }, 'ai.onnx'),
        node('Mul', ['x', 'sf'], ['a'], {}, 'ai.onnx'),
        node('ReduceSum', ['a'], ['loss'], { keepdims: 0 }, 'ai.onnx'),
      ],
    });
    const { differentiated } = buildGradientGraph(g, { loss: 'loss', wrt: ['x'] });
    expect(differentiated.map((n) => n.opType)).toEqual(['Mul', 'ReduceSum']);
  });

  it('refuses opsets below 13 once, for gradients and losses alike', () => {
    const g = graph({ ...io, nodes: [node('ReduceSum', ['x'], ['loss'], { keepdims: 0 })] });
    const floor = /training graphs need ai\.onnx opset 13 or newer.*opset 12/;
    expect(() => buildGradientGraph(g, { loss: 'loss', wrt: ['x'], opset: 12 })).toThrow(floor);
    expect(() => addCausalLmLoss(g, { logits: 'x', opset: 12 })).toThrow(floor);
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
    g.initializer.push(int64Tensor('i', [2], [0, 0]));
    expect(() => buildGradientGraph(g, { loss: 'loss', wrt: ['x'], opset: 15 })).toThrow(/opset 16\+/);
  });

  it('takes GatherElements below opset 16 only where its indices cannot repeat (one wide along the axis)', () => {
    const gather = (width: number) => {
      const g = graph({
        ...io,
        nodes: [
          node('GatherElements', ['x', 'i'], ['a'], { axis: 1 }),
          node('ReduceSum', ['a'], ['loss'], { keepdims: 0 }),
        ],
      });
      g.initializer.push(int64Tensor('i', [2, width], new Array<number>(2 * width).fill(0)));
      return () => buildGradientGraph(g, { loss: 'loss', wrt: ['x'], opset: 14 });
    };
    expect(gather(1)).not.toThrow();
    expect(gather(2)).toThrow(/ScatterElements reduction \(opset 16\+\)/);
  });
});
