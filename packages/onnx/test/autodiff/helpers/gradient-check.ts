import { clone } from '@bufbuild/protobuf';
import * as ort from 'onnxruntime-node';
import {
  GraphProtoSchema,
  TensorProto_DataType as DataType,
  type GraphProto,
  type NodeProto,
  type TensorProto,
} from 'onnx-buf';
import { buildGradientGraph } from '../../../src/autodiff/build-gradient-graph.js';
import { floatTensor, int64Tensor } from '../../../src/graph/tensor-data.js';
import { graph, modelBytes, node, rng } from './onnx-model.js';

/** One finite-difference case: a tiny graph around one op. */
export interface FdCase {
  /** The gradient-table key this case covers (`:MatMul`, `com.microsoft:Gelu` for decompositions, …). */
  op: string;
  label: string;
  /** Float graph inputs (random) by name → dims. */
  inputs: Record<string, number[]>;
  /** Value range of the random inputs (default [-1, 1]); e.g. positive for Log. */
  range?: [number, number];
  /** Int64 constants (indices, axes, shapes) by name. */
  ints?: Record<string, { values: number[]; dims: number[] }>;
  nodes: NodeProto[];
  /** Constant initializers the nodes read besides `ints` (e.g. those an emitter created). */
  initializers?: TensorProto[];
  /** Outputs of the op that feed the loss. */
  outputs: string[];
  /** Inputs to differentiate (default: all float inputs). */
  wrt?: string[];
  /** Run in float32 (for ops ORT CPU has no float64 kernel for). */
  float32?: boolean;
  opset?: number;
  /** Run `prepare` on the loss graph before differentiating (e.g. decomposeFusedOps). */
  prepare?: (g: GraphProto) => void;
}

export interface FdResult {
  maxError: number;
  /** Gradients (autodiff) and the matching central differences, flattened per wrt input. */
  analytic: Record<string, number[]>;
  numeric: Record<string, number[]>;
}

type Feeds = Record<string, ort.Tensor>;

async function runLoss(session: ort.InferenceSession, feeds: Feeds): Promise<number> {
  const out = await session.run(feeds);
  return Number((out.loss!.data as Float64Array | Float32Array)[0]);
}

/** Builds the case's loss graph: Σ_k ReduceSum(y_k · u_k) with random upstream weights u_k. */
async function lossGraph(c: FdCase, type: number, feeds: Feeds, next: () => number): Promise<GraphProto> {
  const ints = [
    ...Object.entries(c.ints ?? {}).map(([n, v]) => int64Tensor(n, v.dims, v.values)),
    ...(c.initializers ?? []),
  ];
  const inputs = Object.entries(c.inputs).map(([name, dims]) => ({ name, type, dims }));
  const probe = graph({ nodes: c.nodes, inputs, outputs: c.outputs.map((name) => ({ name, type })) });
  probe.initializer.push(...ints);
  const session = await ort.InferenceSession.create(modelBytes(probe, c.opset, true));
  const ys = await session.run(feeds);
  const extra: NodeProto[] = [];
  const initializers = [...ints];
  c.outputs.forEach((y, k) => {
    const dims = [...ys[y]!.dims];
    const size = dims.reduce((a, b) => a * b, 1);
    initializers.push(
      floatTensor(
        `u${k}`,
        dims,
        Array.from({ length: size }, () => next()),
        type,
      ),
    );
    extra.push(
      node('Mul', [y, `u${k}`], [`w${k}`]),
      node('ReduceSum', [`w${k}`], [`s${k}`], { keepdims: 0 }),
    );
  });
  extra.push(
    node(
      'Sum',
      c.outputs.map((_, k) => `s${k}`),
      ['loss'],
    ),
  );
  const g = graph({ nodes: [...c.nodes, ...extra], inputs, outputs: [{ name: 'loss', type, dims: [] }] });
  g.initializer.push(...initializers);
  return g;
}

/** Compares autodiff gradients with central differences of the forward graph, both run by onnxruntime. */
export async function checkGradient(c: FdCase, seed = 1): Promise<FdResult> {
  const type = c.float32 ? DataType.FLOAT : DataType.DOUBLE;
  const next = rng(seed);
  const [lo, hi] = c.range ?? [-1, 1];
  const values: Record<string, number[]> = {};
  const makeFeeds = (vals: Record<string, number[]>): Feeds =>
    Object.fromEntries(
      Object.entries(c.inputs).map(([n, dims]) => [
        n,
        new ort.Tensor(
          c.float32 ? 'float32' : 'float64',
          c.float32 ? Float32Array.from(vals[n]!) : Float64Array.from(vals[n]!),
          dims,
        ),
      ]),
    );
  for (const [n, dims] of Object.entries(c.inputs))
    values[n] = Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => next(lo, hi));
  const g = await lossGraph(c, type, makeFeeds(values), () => next());
  c.prepare?.(g);
  const forward = await ort.InferenceSession.create(modelBytes(g, c.opset, true));
  const wrt = c.wrt ?? Object.keys(c.inputs);
  const withGrad = clone(GraphProtoSchema, g);
  const { gradients } = buildGradientGraph(withGrad, { loss: 'loss', wrt, opset: c.opset ?? 17 });
  const backward = await ort.InferenceSession.create(modelBytes(withGrad, c.opset, true));
  const out = await backward.run(makeFeeds(values));
  const eps = c.float32 ? 1e-2 : 1e-6;
  const analytic: Record<string, number[]> = {};
  const numeric: Record<string, number[]> = {};
  let maxError = 0;
  for (const w of wrt) {
    analytic[w] = Array.from(out[gradients.get(w)!]!.data as Float64Array);
    numeric[w] = [];
    for (let i = 0; i < values[w]!.length; i++) {
      const at = (delta: number) => ({ ...values, [w]: values[w]!.map((v, j) => (j === i ? v + delta : v)) });
      const fd =
        ((await runLoss(forward, makeFeeds(at(eps)))) - (await runLoss(forward, makeFeeds(at(-eps))))) /
        (2 * eps);
      numeric[w].push(fd);
      maxError = Math.max(maxError, Math.abs(fd - analytic[w][i]!) / (1 + Math.abs(fd)));
    }
  }
  return { maxError, analytic, numeric };
}
