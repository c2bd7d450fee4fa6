import * as ort from 'onnxruntime-node';
import { TensorProto_DataType as DataType, type NodeProto, type TensorProto } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/autodiff/build-gradient-graph.js';
import { GRADIENT_RULES } from '../../src/autodiff/gradient-rules.js';
import { floatTensor, rawTensor } from '../../src/graph/tensor-data.js';
import { graph, modelBytes, node, rng } from './helpers/onnx-model.js';

// Straight-through rules (quantized activations) are not the derivative of their op, so finite differences
// cannot check them. What they promise instead: the gradient of the float layer they stand for, here
// dx = u · dequant(B)ᵀ for the loss Σ y·u, with dequant(B) = (B − zp)·scale computed here in plain JS.

const [M, K, N] = [6, 5, 4]; // x is [2, 3, K]
interface QuantCase {
  label: string;
  type: DataType.INT8 | DataType.UINT8;
  /** One scale (and zero point) for the tensor, or one per output column. */
  perColumn: boolean;
  zeroPoint: boolean;
  /** The fused com.microsoft op with a bias, instead of onnxruntime's DynamicQuantizeLinear chain. */
  fused?: boolean;
}

const cases: QuantCase[] = [
  {
    label: 'chain, int8 per tensor, zero point 0 (quantize_dynamic QInt8)',
    type: DataType.INT8,
    perColumn: false,
    zeroPoint: true,
  },
  {
    label: 'chain, uint8 per column with zero points (QUInt8 per channel)',
    type: DataType.UINT8,
    perColumn: true,
    zeroPoint: true,
  },
  {
    label: 'chain, int8 without a weight zero point',
    type: DataType.INT8,
    perColumn: false,
    zeroPoint: false,
  },
  {
    label: 'fused DynamicQuantizeMatMul, uint8 per column, bias',
    type: DataType.UINT8,
    perColumn: true,
    zeroPoint: true,
    fused: true,
  },
];

function quantCase(c: QuantCase, next: () => number) {
  const q = Array.from({ length: K * N }, (_, i) =>
    c.type === DataType.INT8 ? ((i * 37) % 255) - 127 : (i * 53) % 256,
  );
  const cols = c.perColumn ? N : 1;
  const scales = Array.from({ length: cols }, (_, j) => 0.01 + 0.004 * j);
  const zps = Array.from({ length: cols }, (_, j) =>
    c.type === DataType.INT8 ? (c.perColumn ? j - 2 : 0) : 120 + 3 * j,
  );
  const dims = c.perColumn ? [N] : [];
  const bytes = (v: number[]) =>
    c.type === DataType.INT8 ? new Uint8Array(Int8Array.from(v).buffer) : Uint8Array.from(v);
  const inits: TensorProto[] = [rawTensor('B', [K, N], bytes(q), c.type), floatTensor('Bs', dims, scales)];
  if (c.zeroPoint) inits.push(rawTensor('Bzp', dims, bytes(zps), c.type));
  const u = Array.from({ length: M * N }, () => next());
  inits.push(floatTensor('u', [2, 3, N], u));
  const deq = q.map(
    (v, i) => (v - (c.zeroPoint ? zps[c.perColumn ? i % N : 0]! : 0)) * scales[c.perColumn ? i % N : 0]!,
  );
  const nodes: NodeProto[] = c.fused
    ? [
        (inits.push(floatTensor('bias', [N], [0.1, -0.2, 0.3, 0.05])),
        node('DynamicQuantizeMatMul', ['x', 'B', 'Bs', 'Bzp', 'bias'], ['y'], {}, 'com.microsoft')),
      ]
    : [
        node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xzp']),
        node('MatMulInteger', ['xq', 'B', 'xzp', ...(c.zeroPoint ? ['Bzp'] : [])], ['acc']),
        node('Cast', ['acc'], ['accf'], { to: DataType.FLOAT }),
        node('Mul', ['xs', 'Bs'], ['sc']),
        node('Mul', ['accf', 'sc'], ['y']),
      ];
  nodes.push(node('Mul', ['y', 'u'], ['yu']), node('ReduceSum', ['yu'], ['loss'], { keepdims: 0 }));
  const g = graph({
    nodes,
    inputs: [{ name: 'x', type: DataType.FLOAT, dims: [2, 3, K] }],
    outputs: [{ name: 'loss', type: DataType.FLOAT, dims: [] }],
  });
  g.initializer.push(...inits);
  // dx[m, k] = Σ_n u[m, n] · deq[k, n]
  const expected = Array.from({ length: M * K }, (_, i) => {
    const [m, k] = [Math.floor(i / K), i % K];
    let s = 0;
    for (let n = 0; n < N; n++) s += u[m * N + n]! * deq[k * N + n]!;
    return s;
  });
  return { g, expected };
}

describe('straight-through gradients of dynamically quantized linears', () => {
  it.each(cases.map((c) => [c.label, c] as const))('%s: dx = dy · dequant(B)ᵀ', async (_l, c) => {
    const next = rng(7);
    const { g, expected } = quantCase(c, next);
    const { gradients, differentiated } = buildGradientGraph(g, { loss: 'loss', wrt: ['x'] });
    expect(differentiated.map((n) => n.opType)).toEqual(['DynamicQuantizeMatMul', 'Mul', 'ReduceSum']);
    const session = await ort.InferenceSession.create(modelBytes(g, 17, true));
    const x = Float32Array.from({ length: M * K }, () => next());
    const out = await session.run({ x: new ort.Tensor('float32', x, [2, 3, K]) });
    const got = out[gradients.get('x')!]!.data as Float32Array;
    expect(Math.max(...expected.map((e, i) => Math.abs(e - got[i]!)))).toBeLessThan(1e-6);
  });

  it('every straight-through rule has a case here', () => {
    const straight = [...GRADIENT_RULES].filter(([, r]) => r.straightThrough).map(([k]) => k);
    expect(straight).toEqual(['com.microsoft:DynamicQuantizeMatMul']);
  });

  it('a MatMulInteger outside the dynamic-quantization chain is named, with the form that trains', () => {
    const g = graph({
      nodes: [
        node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xzp']),
        node('MatMulInteger', ['xq', 'B', 'xzp'], ['acc']),
        node('Cast', ['acc'], ['accf'], { to: DataType.FLOAT }),
        node('Mul', ['accf', 'xs'], ['y']), // the weight's scale is missing: not onnxruntime's form
        node('ReduceSum', ['y'], ['loss'], { keepdims: 0 }),
      ],
      inputs: [{ name: 'x', type: DataType.FLOAT, dims: [2, K] }],
      outputs: [{ name: 'loss', type: DataType.FLOAT, dims: [] }],
    });
    g.initializer.push(rawTensor('B', [K, N], new Uint8Array(K * N), DataType.INT8));
    expect(() => buildGradientGraph(g, { loss: 'loss', wrt: ['x'] })).toThrow(
      /no gradient rule for MatMulInteger \(ai\.onnx\) node "MatMulInteger_acc" \(only the dynamic-quantization form DynamicQuantizeLinear → MatMulInteger → Cast → Mul by the scales is trainable\)/,
    );
  });

  it('refuses a weight scale that is neither a scalar nor one per column, naming it', () => {
    const g = quantCase({ label: '', type: DataType.INT8, perColumn: false, zeroPoint: false }, rng(1)).g;
    g.initializer = g.initializer.map((t) => (t.name === 'Bs' ? floatTensor('Bs', [K], [1, 1, 1, 1, 1]) : t));
    expect(() => buildGradientGraph(g, { loss: 'loss', wrt: ['x'] })).toThrow(
      /"Bs" has shape \[5\]: expected a scalar or one value per output column \(\[4\]\)/,
    );
  });
});
