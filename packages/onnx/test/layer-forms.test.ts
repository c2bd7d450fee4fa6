import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  DataType,
  applyAdapter,
  findLinearLayers,
  floatTensor,
  mergeLora,
  mergeStaticGate,
  tensorValueInfo,
  type LinearLayer,
  type ModelProto,
  type MorAdapterInput,
  type TensorProto,
} from '../src/index.js';
import { maxAbsDiff, run } from './helpers/fixtures.js';
import { model, node, rand, randomMor, referenceMorDelta } from './helpers/synthetic.js';
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema } from 'onnx-buf';

const D_IN = 16;
const D_OUT = 12;
const X3 = [2, 3, D_IN];
const X2 = [6, D_IN];
const f32 = (name: string, dims: number[], seed: number) =>
  floatTensor(
    name,
    dims,
    rand(
      dims.reduce((a, b) => a * b),
      seed,
      0.4,
    ),
  );
const u8 = (name: string, dims: number[], data: Uint8Array): TensorProto =>
  create(TensorProtoSchema, {
    name,
    dims: dims.map(BigInt),
    dataType: DataType.UINT8,
    rawData: new Uint8Array(data),
  });
const io = (name: string, dims: number[]) => tensorValueInfo(name, DataType.FLOAT, dims);

interface Form {
  build: () => ModelProto;
  module: string;
  x: number[];
  expect: Partial<LinearLayer>;
  /** Outputs that must not change (layers sharing the weight). */
  untouched?: string[];
}

/** Block-quantizes W [N, K] to 4 bits (block 16, implicit zero point 8) in MatMulNBits' layout. */
function nbitsWeight(): { q: Uint8Array; scales: Float32Array } {
  const w = rand(D_OUT * D_IN, 7, 0.4);
  const q = new Uint8Array(D_OUT * (D_IN / 2));
  const scales = new Float32Array(D_OUT);
  for (let n = 0; n < D_OUT; n++) {
    const row = w.subarray(n * D_IN, (n + 1) * D_IN);
    scales[n] = Math.max(...row.map(Math.abs)) / 7;
    for (let k = 0; k < D_IN; k++) {
      const v = Math.min(15, Math.max(0, Math.round(row[k]! / scales[n]!) + 8));
      q[n * (D_IN / 2) + (k >> 1)] |= k & 1 ? v << 4 : v;
    }
  }
  return { q, scales };
}

const forms: Record<string, Form> = {
  'Gemm transB=1, alpha 0.5': {
    build: () =>
      model(
        [
          node('Gemm', ['x', 'W', 'C'], ['y'], '/encoder/layer.0/dense/Gemm', {
            transB: { int: 1 },
            alpha: { float: 0.5 },
          }),
        ],
        [f32('W', [D_OUT, D_IN], 1), f32('C', [D_OUT], 2)],
        [io('x', X2)],
        [io('y', [6, D_OUT])],
      ),
    module: 'encoder.layer.0.dense',
    x: X2,
    expect: { kind: 'gemm', weightLayout: '[d_out,d_in]', alpha: 0.5 },
  },
  'Gemm transB=0': {
    build: () =>
      model(
        [node('Gemm', ['x', 'W', 'C'], ['y'], '/fc/Gemm')],
        [f32('W', [D_IN, D_OUT], 3), f32('C', [D_OUT], 4)],
        [io('x', X2)],
        [io('y', [6, D_OUT])],
      ),
    module: 'fc',
    x: X2,
    expect: { kind: 'gemm', weightLayout: '[d_in,d_out]' },
  },
  'GPT-2 Conv1D (MatMul [d_in,d_out] + bias Add)': {
    build: () =>
      model(
        [
          node(
            'MatMul',
            ['x', 'transformer.h.0.attn.c_attn.weight'],
            ['mm'],
            '/transformer/h.0/attn/c_attn/MatMul',
          ),
          node('Add', ['mm', 'bias'], ['y'], '/transformer/h.0/attn/c_attn/Add'),
        ],
        [f32('transformer.h.0.attn.c_attn.weight', [D_IN, D_OUT], 5), f32('bias', [D_OUT], 6)],
        [io('x', X3)],
        [io('y', [2, 3, D_OUT])],
      ),
    module: 'transformer.h.0.attn.c_attn',
    x: X3,
    expect: { kind: 'matmul', weightLayout: '[d_in,d_out]', biasAdd: '/transformer/h.0/attn/c_attn/Add' },
  },
  'weight shared by two MatMuls': {
    build: () =>
      model(
        [
          node('MatMul', ['x', 'shared_w'], ['y'], '/a/proj/MatMul'),
          node('MatMul', ['x', 'shared_w'], ['y2'], '/b/proj/MatMul'),
        ],
        [f32('shared_w', [D_IN, D_OUT], 8)],
        [io('x', X3)],
        [io('y', [2, 3, D_OUT]), io('y2', [2, 3, D_OUT])],
      ),
    module: 'a.proj',
    x: X3,
    expect: { shared: true },
    untouched: ['y2'],
  },
  'weight through a Transpose (dynamo naming)': {
    build: () =>
      model(
        [
          node('Transpose', ['lin.weight'], ['wT'], 'node_Transpose_0', { perm: { ints: [1, 0] } }),
          node('MatMul', ['x', 'wT'], ['y'], 'node_MatMul_1'),
        ],
        [f32('lin.weight', [D_OUT, D_IN], 9)],
        [io('x', X3)],
        [io('y', [2, 3, D_OUT])],
      ),
    module: 'lin',
    x: X3,
    expect: {
      kind: 'matmul',
      weightLayout: '[d_out,d_in]',
      weightTranspose: 'node_Transpose_0',
      shared: false,
    },
  },
  'MatMulNBits (4-bit, com.microsoft)': {
    build: () => {
      const { q, scales } = nbitsWeight();
      return model(
        [
          node(
            'MatMulNBits',
            ['x', 'Bq', 'scales'],
            ['y'],
            '/model/q_proj/MatMul_Q4',
            { K: { int: D_IN }, N: { int: D_OUT }, bits: { int: 4 }, block_size: { int: 16 } },
            'com.microsoft',
          ),
        ],
        [u8('Bq', [D_OUT, 1, D_IN / 2], q), floatTensor('scales', [D_OUT], scales)],
        [io('x', X3)],
        [io('y', [2, 3, D_OUT])],
        { '': 17, 'com.microsoft': 1 },
      );
    },
    module: 'model.q_proj',
    x: X3,
    expect: { kind: 'matmul-nbits', quantized: true, weightLayout: 'quantized' },
  },
  'DynamicQuantizeLinear + MatMulInteger': {
    build: () =>
      model(
        [
          node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xzp'], '/mlp/fc1/DynamicQuantizeLinear'),
          node('MatMulInteger', ['xq', 'Wq', 'xzp', 'wzp'], ['yi'], '/mlp/fc1/MatMulInteger'),
          node('Mul', ['xs', 'ws'], ['sc'], '/mlp/fc1/scales_mul'),
          node('Cast', ['yi'], ['yc'], '/mlp/fc1/Cast', { to: { int: DataType.FLOAT } }),
          node('Mul', ['yc', 'sc'], ['y'], '/mlp/fc1/Mul'),
        ],
        [
          u8(
            'Wq',
            [D_IN, D_OUT],
            Uint8Array.from(rand(D_IN * D_OUT, 11, 1), (v) => Math.round(128 + 100 * v)),
          ),
          u8('wzp', [], Uint8Array.of(128)),
          floatTensor('ws', [], Float32Array.of(0.004)),
        ],
        [io('x', X3)],
        [io('y', [2, 3, D_OUT])],
      ),
    module: 'mlp.fc1',
    x: X3,
    expect: { kind: 'matmul-integer', quantized: true, output: 'y' },
  },
};

function adapterFor(module: string, seed: number, topK: number | null = null, bias = true): MorAdapterInput {
  return {
    kind: 'mor',
    config: { r: 3, alpha: 6, experts: 4, topK, routerBias: bias },
    layers: new Map([[module, randomMor(D_IN, D_OUT, 3, 4, bias, seed)]]),
  };
}

async function outputs(
  m: ModelProto,
  x: Float32Array,
  dims: number[],
): Promise<Record<string, Float32Array>> {
  const res = await run(m, { x: new ort.Tensor('float32', x, dims) });
  return Object.fromEntries(Object.entries(res).map(([k, v]) => [k, v.data as Float32Array]));
}

const diff = (a: Float32Array, b: Float32Array) => a.map((v, i) => v - b[i]!);

describe.each(Object.entries(forms))('%s', (_label, form) => {
  const x = rand(
    form.x.reduce((a, b) => a * b),
    99,
    1,
  );

  it('is found with the right shape and layout', () => {
    const layer = findLinearLayers(form.build()).find((l) => l.modulePath === form.module);
    expect(layer).toMatchObject({ dIn: D_IN, dOut: D_OUT, ...form.expect });
  });

  it('patched output = base output + reference MoR delta', async () => {
    const adapter = adapterFor(form.module, 21);
    const base = await outputs(form.build(), x, form.x);
    const patched = form.build();
    applyAdapter(patched, adapter);
    const out = await outputs(patched, x, form.x);
    const ref = referenceMorDelta(x, adapter.layers.get(form.module)!, 2, { topK: null });
    expect(maxAbsDiff(diff(out['y']!, base['y']!), ref)).toBeLessThan(1e-4);
    for (const name of form.untouched ?? []) expect(maxAbsDiff(out[name]!, base[name]!)).toBe(0);
  });

  it('static-gate merge equals the static branch (quantized weights: kept, the branch folded in beside them)', async () => {
    const adapter = adapterFor(form.module, 33);
    const gate = [0.4, 0.1, 0.3, 0.2];
    const merged = form.build();
    if (form.expect.quantized) {
      expect(() => mergeStaticGate(form.build(), adapter, gate, { quantized: 'refuse' })).toThrow(
        new RegExp(`${form.module}.*quantized`),
      );
      const ops = (m: ModelProto) => m.graph!.node.map((n) => n.opType);
      mergeStaticGate(merged, adapter, gate);
      // the quantized kernel is still there, reading the same weight; the branch's weights are constants
      expect(ops(merged).filter((o) => o.startsWith('MatMul'))).toEqual(
        expect.arrayContaining(ops(form.build()).filter((o) => o.startsWith('MatMul'))),
      );
      expect(merged.graph!.input.map((i) => i.name)).toEqual(form.build().graph!.input.map((i) => i.name));
      expect(merged.graph!.initializer.some((t) => t.name.startsWith(`merged.${form.module}.`))).toBe(true);
    } else mergeStaticGate(merged, adapter, gate);
    const patched = form.build();
    applyAdapter(patched, adapter, { routing: 'static', gate });
    const a = await outputs(patched, x, form.x);
    const b = await outputs(merged, x, form.x);
    const base = await outputs(form.build(), x, form.x);
    expect(maxAbsDiff(a['y']!, b['y']!)).toBeLessThan(1e-4);
    const ref = referenceMorDelta(x, adapter.layers.get(form.module)!, 2, { gate });
    expect(maxAbsDiff(diff(b['y']!, base['y']!), ref)).toBeLessThan(1e-4);
    for (const name of form.untouched ?? []) expect(maxAbsDiff(b[name]!, base[name]!)).toBe(0);
  });

  it('LoRA merge adds scaling·B·A·x (quantized weights: as a branch beside them)', async () => {
    const [r, scaling] = [3, 0.75];
    const [A, B] = [rand(r * D_IN, 41, 0.3), rand(D_OUT * r, 42, 0.3)];
    const lora = {
      kind: 'lora' as const,
      scaling,
      fanInFanOut: false,
      layers: new Map([[form.module, { r, dIn: D_IN, dOut: D_OUT, A, B }]]),
    };
    const merged = form.build();
    mergeLora(merged, lora);
    const [b, base] = [await outputs(merged, x, form.x), await outputs(form.build(), x, form.x)];
    const rows = x.length / D_IN;
    const ref = new Float32Array(rows * D_OUT);
    for (let m = 0; m < rows; m++)
      for (let k = 0; k < r; k++) {
        let ax = 0;
        for (let i = 0; i < D_IN; i++) ax += A[k * D_IN + i]! * x[m * D_IN + i]!;
        for (let o = 0; o < D_OUT; o++) ref[m * D_OUT + o]! += scaling * B[o * r + k]! * ax;
      }
    expect(maxAbsDiff(diff(b['y']!, base['y']!), ref)).toBeLessThan(1e-4);
  });
});
