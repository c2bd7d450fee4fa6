import { TensorProto_DataType as DataType, type GraphProto, type NodeProto } from 'onnx-buf';
import { floatAttr, intAttr, stringAttr } from '../graph/attributes.js';
import type { GraphBuilder } from '../graph/graph-builder.js';
import { opKey } from '../graph/graph-index.js';
import { typedBuilders } from './builder.js';
import { computeType } from './elem-types.js';
import { collectStaticInfo } from './static-info.js';
import { expandGroupQueryAttention, expandRotaryEmbedding } from './decompose-attention.js';
import { AutodiffError, describeNode } from './errors.js';

/** Options of {@link decomposeFusedOps}. */
export interface DecomposeOptions {
  /** The model's ai.onnx opset, at least 13 (default 17). */
  opset?: number;
  /** Compute type of emitted constants (default float32). */
  floatType?: DataType.FLOAT | DataType.DOUBLE;
}

type Expand = (b: GraphBuilder, n: NodeProto) => string[];

/** `x / sqrt(mean(x², axes ≥ axis) + eps)` (or with the mean removed first, `center`), in x's shape. */
function normalize(b: GraphBuilder, x: string, axis: number, eps: number, center: boolean): string {
  const flat = b.op1('Flatten', [x], { axis: { int: axis } }); // [outer, normalized]: the axes need not be known statically
  const d = center ? b.op1('Sub', [flat, b.reduceMean(flat, [-1], true)]) : flat;
  const meanSquare = b.reduceMean(b.op1('Mul', [d, d]), [-1], true);
  const y = b.op1('Div', [d, b.op1('Sqrt', [b.op1('Add', [meanSquare, b.f(eps)])])]);
  return b.op1('Reshape', [y, b.op1('Shape', [x])]);
}

/** `normalize(x)·scale (+ bias)`, written to the node's first output. */
function affine(
  b: GraphBuilder,
  n: NodeProto,
  normalized: string,
  scale: string,
  bias: string | undefined,
): string[] {
  const scaled = bias ? b.op1('Mul', [normalized, scale]) : undefined;
  if (scaled && bias) return b.op('Add', [scaled, bias], {}, [n.output[0]!]);
  return b.op('Mul', [normalized, scale], {}, [n.output[0]!]);
}

/** Skip* ops: `s = input + skip (+ bias)`, also their 4th output when asked. */
function skipSum(b: GraphBuilder, n: NodeProto, biasIndex: number): string {
  const s = b.op1('Add', [n.input[0]!, n.input[1]!]);
  const withBias = n.input[biasIndex] ? b.op1('Add', [s, n.input[biasIndex]!]) : s;
  if (n.output[3]) b.op('Identity', [withBias], {}, [n.output[3]]);
  return withBias;
}

const gelu = (b: GraphBuilder, x: string, out: string, tanh: boolean): string[] => {
  const half = b.op1('Mul', [x, b.f(0.5)]);
  const inner = tanh
    ? b.op1('Tanh', [
        b.op1('Mul', [
          b.f(Math.sqrt(2 / Math.PI)),
          b.op1('Add', [x, b.op1('Mul', [b.f(0.044715), b.op1('Mul', [x, b.op1('Mul', [x, x])])])]),
        ]),
      ])
    : b.op1('Erf', [b.op1('Mul', [x, b.f(Math.SQRT1_2)])]);
  return b.op('Mul', [half, b.op1('Add', [inner, b.f(1)])], {}, [out]);
};

/** Fused ops and their expansion into primitives that have gradient rules. Keyed by `domain:opType`. */
const EXPANSIONS = new Map<string, Expand>([
  [
    ':LayerNormalization',
    (b, n) =>
      affine(
        b,
        n,
        normalize(b, n.input[0]!, intAttr(n, 'axis', -1), floatAttr(n, 'epsilon', 1e-5), true),
        n.input[1]!,
        n.input[2],
      ),
  ],
  [
    ':SimplifiedLayerNormalization',
    (b, n) =>
      affine(
        b,
        n,
        normalize(b, n.input[0]!, intAttr(n, 'axis', -1), floatAttr(n, 'epsilon', 1e-5), false),
        n.input[1]!,
        undefined,
      ),
  ],
  [
    'com.microsoft:SkipSimplifiedLayerNormalization',
    (b, n) =>
      affine(
        b,
        n,
        normalize(b, skipSum(b, n, 3), -1, floatAttr(n, 'epsilon', 1e-5), false),
        n.input[2]!,
        undefined,
      ),
  ],
  [
    'com.microsoft:SkipLayerNormalization',
    (b, n) =>
      affine(
        b,
        n,
        normalize(b, skipSum(b, n, 4), -1, floatAttr(n, 'epsilon', 1e-5), true),
        n.input[2]!,
        n.input[3],
      ),
  ],
  ['com.microsoft:Gelu', (b, n) => gelu(b, n.input[0]!, n.output[0]!, false)],
  [':Gelu', (b, n) => gelu(b, n.input[0]!, n.output[0]!, stringAttr(n, 'approximate', 'none') === 'tanh')],
  [
    'com.microsoft:FastGelu',
    (b, n) => gelu(b, n.input[1] ? b.op1('Add', [n.input[0]!, n.input[1]]) : n.input[0]!, n.output[0]!, true),
  ],
  [
    'com.microsoft:QuickGelu',
    (b, n) => {
      const x = n.input[0]!;
      const gate = b.op1('Sigmoid', [b.op1('Mul', [x, b.f(floatAttr(n, 'alpha', 1.702))])]);
      return b.op('Mul', [x, gate], {}, [n.output[0]!]);
    },
  ],
  ['com.microsoft:RotaryEmbedding', expandRotaryEmbedding],
  ['com.microsoft:GroupQueryAttention', expandGroupQueryAttention],
]);

/** Op types (`domain:opType`) that {@link decomposeFusedOps} expands. */
export const DECOMPOSABLE: ReadonlySet<string> = new Set(EXPANSIONS.keys());

/** The outputs an expansion writes (default: output 0); others (normalization statistics, `output_qk`) must be unused. */
const REPRODUCED_OUTPUTS: Record<string, readonly number[]> = {
  'com.microsoft:SkipSimplifiedLayerNormalization': [0, 3],
  'com.microsoft:SkipLayerNormalization': [0, 3],
  'com.microsoft:GroupQueryAttention': [0, 1, 2],
};

/**
 * Replaces fused ops (LayerNormalization, SimplifiedLayerNormalization, Skip*LayerNormalization, Gelu variants,
 * com.microsoft RotaryEmbedding and GroupQueryAttention: decompose-attention.ts) by standard ai.onnx primitives in
 * place, keeping output names and topological order, so autodiff needs rules
 * for primitives only. Mutates `graph`; returns the number of nodes expanded.
 */
export function decomposeFusedOps(graph: GraphProto, options: DecomposeOptions = {}): number {
  const builders = typedBuilders(graph, '/decomposed', options.opset, options.floatType);
  const info = collectStaticInfo(graph); // element types: a float16 node expands with float16 constants
  const original = graph.node;
  const read = new Set(original.flatMap((n) => n.input).concat(graph.output.map((o) => o.name)));
  const result: NodeProto[] = [];
  let count = 0;
  for (const node of original) {
    const key = opKey(node);
    const expand = EXPANSIONS.get(key);
    if (expand === undefined) {
      result.push(node);
      continue;
    }
    const kept = REPRODUCED_OUTPUTS[key] ?? [0];
    node.output.forEach((o, i) => {
      if (o && read.has(o) && !kept.includes(i))
        throw new AutodiffError(
          `cannot decompose ${describeNode(node.opType, node.domain, node.name)}: its output ${i} "${o}" is used`,
          {
            opType: node.opType,
            domain: node.domain,
            node: node.name,
          },
        );
    });
    graph.node = [];
    expand(builders.of(computeType(node, info.elemType)), node);
    result.push(...graph.node);
    count++;
  }
  graph.node = result;
  return count;
}
