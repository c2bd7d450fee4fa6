import { TensorProto_DataType as DataType } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/autodiff/build-gradient-graph.js';
import { DECOMPOSABLE } from '../../src/autodiff/decompose.js';
import { GRADIENT_RULES } from '../../src/autodiff/gradient-rules.js';
import { checkGradient } from './helpers/gradient-check.js';
import { FD_CASES } from './helpers/fd-cases.js';
import { graph, node } from './helpers/onnx-model.js';
import { floatTensor } from '../../src/graph/tensor-data.js';

describe('gradient table: finite differences', () => {
  it.each(FD_CASES.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    const { maxError } = await checkGradient(c);
    expect(maxError).toBeLessThan(c.float32 ? 2e-2 : 1e-6);
  });

  it('has a finite-difference case for every gradient rule and every decomposition', () => {
    const covered = new Set(FD_CASES.map((c) => c.op));
    // Straight-through rules are checked against the float layer they stand for (straight-through.test.ts).
    const rules = [...GRADIENT_RULES].filter(([, r]) => !r.straightThrough).map(([k]) => k);
    const missing = [...rules, ...DECOMPOSABLE].filter((k) => !covered.has(k));
    expect(missing).toEqual([]);
  });
});

describe('MatMul against a frozen weight', () => {
  // onnxruntime constant-folds Transpose(W) of an initializer into a transposed copy of the weight: the backward
  // of a frozen layer must read W as stored (the finite-difference cases above check the numbers).
  it('differentiates the input through Gemm(dy, W, transB=1), with no Transpose of W', () => {
    const g = graph({
      nodes: [node('MatMul', ['a', 'w'], ['y']), node('ReduceSum', ['y'], ['loss'], { keepdims: 0 })],
      inputs: [{ name: 'a', type: DataType.FLOAT, dims: [2, 5, 3] }],
      outputs: [{ name: 'loss', type: DataType.FLOAT, dims: [] }],
    });
    g.initializer.push(floatTensor('w', [3, 4], new Array(12).fill(0.5)));
    buildGradientGraph(g, { loss: 'loss', wrt: ['a'], opset: 17 });
    const readers = g.node.filter((n) => n.input.includes('w'));
    expect(readers.map((n) => n.opType).sort()).toEqual(['Gemm', 'MatMul']);
    const gemm = readers.find((n) => n.opType === 'Gemm')!;
    expect(gemm.input[1]).toBe('w');
    expect(gemm.attribute.find((a) => a.name === 'transB')?.i).toBe(1n);
  });
});
