// Static shape inference (src/autodiff/shape-inference.ts, through collectStaticInfo) against the shapes
// onnxruntime produces: symbolic dims stay named, unknowns are reported as unknown (`?…`), never guessed.
import { readFileSync } from 'node:fs';
import { create, fromBinary } from '@bufbuild/protobuf';
import * as ort from 'onnxruntime-node';
import {
  ModelProtoSchema,
  TensorProto_DataType as DataType,
  ValueInfoProtoSchema,
  type NodeProto,
  type TensorProto,
} from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { collectStaticInfo, type StaticDim } from '../../src/autodiff/static-info.js';
import { int64Tensor } from '../../src/graph/tensor-data.js';
import { graph, modelBytes, node, rng } from './helpers/onnx-model.js';

type Bindings = Record<string, number>;

/** A dim under concrete sizes of the symbols: `2*T*batch` → 2·T·batch; undefined for unknown (`?…`) dims. */
function resolve(d: StaticDim, sizes: Bindings): number | undefined {
  if (typeof d === 'number') return d;
  if (d.startsWith('?')) return undefined;
  return d.split('*').reduce<number | undefined>((p, f) => {
    const v = /^\d+$/.test(f) ? Number(f) : sizes[f];
    return p === undefined || v === undefined ? undefined : p * v;
  }, 1);
}

const ints = (name: string, values: number[]) => int64Tensor(name, [values.length], values);
const F = DataType.FLOAT;
/** `[INT64_MAX]`, the "to the end" of Slice ends in PyTorch exports. */
const int64Max = (name: string) => {
  const t = ints(name, [0]);
  t.rawData = new Uint8Array(BigInt64Array.of(2n ** 63n - 1n).buffer);
  return t;
};

interface Case {
  nodes: NodeProto[];
  inputs: Record<string, StaticDim[]>;
  inits?: TensorProto[];
  /**
   * Outputs to check, by name → the inferred shape expected (symbols by name, `'?'` for an unknown dim, `'*'`
   * for "known or not, as long as it is right"); undefined: no shape at all.
   */
  expect: Record<string, StaticDim[] | undefined>;
  opset?: number;
  /** Input values instead of random ones (shape vectors computed at run time). */
  values?: Record<string, number[]>;
}

/** Infers shapes statically, runs ORT with `sizes` bound, and checks both against `c.expect`. */
async function check(c: Case, sizes: Bindings): Promise<void> {
  const inputs = Object.entries(c.inputs).map(([name, dims]) => ({ name, type: F, dims }));
  const outs = Object.keys(c.expect);
  const g = graph({ nodes: c.nodes, inputs, outputs: outs.map((name) => ({ name, type: F })) });
  g.initializer.push(...(c.inits ?? []));
  const info = collectStaticInfo(g);
  const next = rng(3);
  const feeds = Object.fromEntries(
    Object.entries(c.inputs).map(([name, dims]) => {
      const concrete = dims.map((d) => resolve(d, sizes)!);
      const size = concrete.reduce((a, b) => a * b, 1);
      const data = c.values?.[name] ?? Array.from({ length: size }, () => next());
      return [name, new ort.Tensor('float32', Float32Array.from(data), concrete)];
    }),
  );
  const session = await ort.InferenceSession.create(modelBytes(g, c.opset ?? 17));
  const got = await session.run(feeds);
  for (const name of outs) {
    const inferred = info.shape(name);
    const want = c.expect[name];
    if (want === undefined) {
      expect(inferred, name).toBeUndefined();
      continue;
    }
    expect(inferred, name).toBeDefined();
    const shown = inferred!.map((d, i) =>
      want[i] === '*' ? '*' : typeof d === 'string' && d.startsWith('?') ? '?' : d,
    );
    expect(shown, name).toEqual(want);
    // Every dim it claims to know is the size ORT computes.
    const actual = got[name]!.dims;
    expect(inferred!.length, name).toBe(actual.length);
    inferred!.forEach((d, i) => {
      const v = resolve(d, sizes);
      if (v !== undefined) expect(v, `${name}[${i}] = ${d}`).toBe(actual[i]);
    });
  }
}

const sizes = { batch: 2, seq: 3 };

describe('shape inference vs onnxruntime', () => {
  it('MatMul broadcasts batch dims; Add broadcasts [B,T,D]+[D]; Transpose permutes', async () => {
    await check(
      {
        nodes: [
          node('MatMul', ['a', 'w'], ['mm']),
          node('Add', ['x', 'bias'], ['add']),
          node('Transpose', ['x'], ['tr'], { perm: [2, 0, 1] }),
          node('Transpose', ['x'], ['tr_default']),
        ],
        inputs: { a: ['batch', 1, 'seq', 4], w: [3, 4, 5], x: ['batch', 'seq', 6], bias: [6] },
        expect: {
          mm: ['batch', 3, 'seq', 5],
          add: ['batch', 'seq', 6],
          tr: [6, 'batch', 'seq'],
          tr_default: [6, 'seq', 'batch'],
        },
      },
      sizes,
    );
  });

  it('Reshape with constant shapes (0 copies, -1 inferred, also symbolically) and through Shape arithmetic', async () => {
    await check(
      {
        nodes: [
          node('Reshape', ['x', 's1'], ['r1']),
          node('Reshape', ['x', 's2'], ['r2']),
          node('Reshape', ['fixed', 's3'], ['r3']),
          // [batch, -1] built from Shape(x): the -1 is seq·6
          node('Shape', ['x'], ['shape']),
          node('Gather', ['shape', 'zero'], ['b0']),
          node('Concat', ['b0', 'minus1'], ['s4'], { axis: 0 }),
          node('Reshape', ['x', 's4'], ['r4']),
        ],
        inputs: { x: ['batch', 'seq', 6], fixed: [2, 3, 4] },
        inits: [
          ints('s1', [0, -1, 3]),
          ints('s2', [0, 0, 2, 3]),
          ints('s3', [-1, 4]),
          ints('zero', [0]),
          ints('minus1', [-1]),
        ],
        expect: {
          r1: ['batch', '2*seq', 3],
          r2: ['batch', 'seq', 2, 3],
          r3: [6, 4],
          r4: ['batch', '6*seq'],
        },
      },
      sizes,
    );
  });

  it('Concat, Gather and Slice with constant starts/ends', async () => {
    await check(
      {
        nodes: [
          node('Concat', ['x', 'y'], ['cat_known'], { axis: 2 }),
          node('Concat', ['x', 'z'], ['cat_seq'], { axis: -2 }),
          node('Gather', ['x', 'idx2'], ['g_axis1'], { axis: 1 }),
          node('Gather', ['x', 'scalar'], ['g_scalar']),
          node('Slice', ['x', 'one', 'minus1', 'two'], ['sl_last']),
          node('Slice', ['x', 'zero', 'big', 'one'], ['sl_all']),
          node('Slice', ['x', 'one', 'big', 'one'], ['sl_sym']),
          node('Slice', ['x', 'minus1', 'zero', 'two', 'minus2'], ['sl_neg']),
          // rotary halves: the split point is the last extent / 2, computed from Shape
          node('Shape', ['x'], ['xs']),
          node('Gather', ['xs', 'two'], ['last']),
          node('Div', ['last', 'two'], ['half']),
          node('Slice', ['x', 'zero', 'half', 'two'], ['sl_half1']),
          node('Slice', ['x', 'half', 'big', 'two'], ['sl_half2']),
        ],
        inputs: { x: ['batch', 'seq', 6], y: ['batch', 'seq', 2], z: ['batch', 'seq', 6] },
        inits: [
          ints('idx2', [2, 0]),
          int64Tensor('scalar', [], [1]),
          ints('zero', [0]),
          ints('one', [1]),
          ints('two', [2]),
          ints('minus1', [-1]),
          ints('minus2', [-2]),
          int64Max('big'),
        ],
        expect: {
          cat_known: ['batch', 'seq', 8],
          // seq + seq is not a dim the pass can name: unknown, not a wrong number
          cat_seq: ['batch', '?', 6],
          g_axis1: ['batch', 2, 6],
          g_scalar: ['seq', 6],
          sl_last: ['batch', 'seq', 4],
          sl_all: ['batch', 'seq', 6],
          sl_sym: ['batch', '?', 6],
          sl_neg: ['batch', 'seq', 3],
          sl_half1: ['batch', 'seq', 3],
          sl_half2: ['batch', 'seq', 3],
        },
      },
      sizes,
    );
  });

  it('ReduceMean keepdims 0/1 (attribute axes, opset 17; input axes, opset 18), Unsqueeze/Squeeze with axes inputs', async () => {
    const base = {
      inputs: { x: ['batch', 'seq', 6] as StaticDim[], y: ['batch', 1, 'seq', 1] as StaticDim[] },
      inits: [ints('axes', [0, 2]), ints('sq', [1, -1]), ints('ax1', [-1])],
    };
    const squeezes = [node('Unsqueeze', ['x', 'axes'], ['unsq']), node('Squeeze', ['y', 'sq'], ['sq_out'])];
    const squeezed = { unsq: [1, 'batch', 1, 'seq', 6], sq_out: ['batch', 'seq'] };
    await check(
      {
        ...base,
        nodes: [
          node('ReduceMean', ['x'], ['keep'], { axes: [-1] }),
          node('ReduceMean', ['x'], ['drop'], { axes: [1], keepdims: 0 }),
          node('ReduceMean', ['x'], ['all'], { keepdims: 0 }),
          ...squeezes,
        ],
        expect: { keep: ['batch', 'seq', 1], drop: ['batch', 6], all: [], ...squeezed },
      },
      sizes,
    );
    await check(
      {
        ...base,
        opset: 18,
        nodes: [
          node('ReduceMean', ['x', 'ax1'], ['keep']),
          node('ReduceMean', ['x', 'axes'], ['drop'], { keepdims: 0 }),
          ...squeezes,
        ],
        expect: { keep: ['batch', 'seq', 1], drop: ['seq'], ...squeezed },
      },
      sizes,
    );
  });

  it('reports run-time-dependent shapes as unknown', async () => {
    // The shape vector and the slice end are computed from data (Cast of float inputs): nothing to read statically.
    await check(
      {
        nodes: [
          node('Cast', ['shape_f'], ['shape'], { to: DataType.INT64 }),
          node('Reshape', ['x', 'shape'], ['r']),
          node('Cast', ['end_f'], ['end'], { to: DataType.INT64 }),
          node('Slice', ['x', 'zero', 'end'], ['sl']),
        ],
        inputs: { x: [4, 'seq', 6], shape_f: [2], end_f: [1] },
        inits: [ints('zero', [0])],
        values: { shape_f: [12, 6], end_f: [2] },
        expect: { r: undefined, sl: ['?', '*', '*'] },
      },
      sizes,
    );
  });
});

describe('tiny Llama export: inferred static shapes agree with onnxruntime', () => {
  it('every intermediate whose inferred shape is fully known matches the run', async () => {
    const bytes = readFileSync(new URL('../../../../fixtures/tiny-llama/onnx/model.onnx', import.meta.url));
    const model = fromBinary(ModelProtoSchema, bytes);
    const g = model.graph!;
    const info = collectStaticInfo(g);
    const [batch, seq] = [2, 5];
    const declared = g.input.map((v) => info.shape(v.name)!);
    // Bind the input symbols ([batch, seq] for input_ids and attention_mask) to the run's sizes.
    const sizes: Bindings = {};
    for (const dims of declared)
      dims.forEach((d, i) => typeof d === 'string' && (sizes[d] = i === 0 ? batch : seq));
    const outputs = new Set(g.output.map((o) => o.name));
    const known = g.node
      .flatMap((n) => n.output)
      .filter((t) => t && !outputs.has(t))
      .map((t) => ({ t, shape: info.shape(t) }))
      .filter((v) => v.shape?.every((d) => resolve(d, sizes) !== undefined));
    expect(known.length).toBeGreaterThan(100);
    // Some of them symbolic (named after the inputs' dims), not only constants.
    expect(known.some((v) => v.shape!.some((d) => typeof d === 'string'))).toBe(true);
    // Outputs by name only: ORT takes their types from the producing nodes.
    for (const v of known) g.output.push(create(ValueInfoProtoSchema, { name: v.t }));
    const session = await ort.InferenceSession.create(new Uint8Array(modelBytesOf(model)));
    const ids = BigInt64Array.from({ length: batch * seq }, (_, i) => BigInt((i * 7) % 100));
    const mask = BigInt64Array.from({ length: batch * seq }, () => 1n);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [batch, seq]),
      attention_mask: new ort.Tensor('int64', mask, [batch, seq]),
    };
    const out = await session.run(feeds);
    const wrong = known
      .map((v) => ({ t: v.t, inferred: v.shape!.map((d) => resolve(d, sizes)), actual: out[v.t]!.dims }))
      .filter((v) => JSON.stringify(v.inferred) !== JSON.stringify([...v.actual]));
    expect(wrong).toEqual([]);
  });
});

function modelBytesOf(model: ReturnType<typeof fromBinary<typeof ModelProtoSchema>>): Uint8Array {
  return modelBytes(model.graph!, Number(model.opsetImport.find((o) => o.domain === '')!.version));
}
