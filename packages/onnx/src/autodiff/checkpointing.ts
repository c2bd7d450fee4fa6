import { clone } from '@bufbuild/protobuf';
import { NodeProtoSchema, TensorProto_DataType as DataType, type GraphProto, type NodeProto } from 'onnx-buf';
import type { GraphBuilder } from '../graph/graph-builder.js';

/**
 * A layer index in a node name: `/model/layers.3/…` (optimum's TorchScript export, onnxruntime-genai's builder),
 * `/mor/model.layers.3.self_attn.q_proj/…` (adapter branches), `/transformer/h.3/…` (GPT-2), `…/layer.3/…` (BERT).
 */
const LAYER_IN_NAME = /(?:^|[/.])(?:layers?|h|blocks?)[./](\d+)(?=[/._]|$)/;

/** Ops whose copy would not reproduce the original's values: they keep their forward outputs. */
const NOT_REPEATABLE = new Set([
  'RandomUniform',
  'RandomUniformLike',
  'RandomNormal',
  'RandomNormalLike',
  'Multinomial',
  'Bernoulli',
  'Dropout',
]);

/**
 * The decoder layer of each forward node, -1 for none: the index a node's name carries; a node between two such
 * nodes whose name carries none (decompositions, dropout) belongs to the layer of the next one, and the nodes
 * before the first (embedding, rotary tables, mask) and after the last (final norm, head, loss) to none. Any split
 * is exact (every tensor crossing a boundary is handed over unchanged); it only decides which tensors are kept:
 * those that cross.
 */
export function layerSegments(nodes: readonly NodeProto[]): number[] {
  const named = nodes.map((n) => {
    const m = LAYER_IN_NAME.exec(n.name);
    return m ? Number(m[1]) : -1;
  });
  const segments = new Array<number>(nodes.length).fill(-1);
  const first = named.findIndex((s) => s >= 0);
  if (first < 0) return segments;
  let next = -1;
  for (let k = nodes.length - 1; k >= first; k--) {
    if (named[k]! >= 0) next = named[k]!;
    segments[k] = next;
  }
  return segments;
}

/**
 * Gradient checkpointing for the reverse walk of buildGradientGraph: only the tensors that cross decoder-layer
 * boundaries (the residual stream, shared rotary tables) are kept from the forward; when the walk reaches a layer,
 * the layer's forward is emitted again from them and the layer's gradient nodes read the copies.
 *
 * onnxruntime orders nodes by a depth-first walk from the graph's leaves (GraphViewer: reverse DFS, inputs by
 * node index), not in the file's order, so a copy that needs nothing from the backward could run anywhere — even
 * before the loss, keeping everything alive again. Each layer's copy therefore starts from its inputs passed
 * through `Where(isnan(s), x, x)` (exactly `x`), where `s` sums the gradients the previous layer (in walk order)
 * produced for tensors outside itself — the gradient of its input and of its parameters: the copy cannot start
 * before that layer's backward is complete, and the layer's own backward (weight gradients included) cannot lag
 * behind into the next layer's, so only one layer's activations live at a time.
 */
export class Checkpoints {
  /** Segment of the node producing each forward tensor. */
  private readonly producer = new Map<string, number>();
  private readonly nodesOf = new Map<number, NodeProto[]>();
  /** Per segment entered: forward tensor → its recomputed copy. */
  private readonly copies = new Map<number, Map<string, string>>();
  private active = -1;
  /** Tensors outside the active segment that its gradient rules contributed to. */
  private readonly handedOut = new Set<string>();
  /** Segments whose forward was emitted again. */
  readonly recomputed: number[] = [];

  constructor(
    private readonly graph: GraphProto,
    forward: readonly NodeProto[],
    private readonly b: GraphBuilder,
  ) {
    const segments = layerSegments(forward);
    forward.forEach((n, k) => {
      const s = segments[k]!;
      for (const o of n.output) if (o) this.producer.set(o, s);
      if (s < 0) return;
      if (!this.nodesOf.has(s)) this.nodesOf.set(s, []);
      this.nodesOf.get(s)!.push(n);
    });
  }

  /** The segment of a (viewed) forward node: that of the node producing its first output. */
  segmentOf(node: NodeProto): number {
    return this.producer.get(node.output.find((o) => o) ?? '') ?? -1;
  }

  /**
   * Before the gradient rule of `node` (walking backward): on the first node of a segment, emits its gate and its
   * forward copy. `dy` are the node's output gradients, `total` sums a tensor's gradient contributions so far.
   */
  enter(node: NodeProto, dy: readonly (string | undefined)[], total: (name: string) => string | undefined) {
    const s = this.segmentOf(node);
    if (s === this.active) return;
    this.active = s;
    // Between layers (a node of none): what the last layer handed out still gates the next one.
    if (s < 0) return;
    const gradients = [...dy.filter((g): g is string => !!g)];
    for (const t of this.handedOut) {
      const g = total(t);
      if (g) gradients.push(g);
    }
    this.handedOut.clear();
    if (this.copies.has(s)) return;
    this.copies.set(s, this.emitCopy(s, this.gate(gradients)));
    this.recomputed.push(s);
  }

  /** A gradient rule of the active segment contributed to `tensor`. */
  contributed(tensor: string): void {
    if (this.active >= 0 && this.producer.get(tensor) !== this.active) this.handedOut.add(tensor);
  }

  /** Points the nodes emitted since `from` (the active segment's gradient rule) at the recomputed tensors. */
  rewrite(from: number): void {
    const copies = this.copies.get(this.active);
    if (!copies) return;
    for (const n of this.graph.node.slice(from)) n.input = n.input.map((i) => copies.get(i) ?? i);
  }

  /** `isnan(Σ sum(g))`: a scalar condition that exists only once every `g` does. */
  private gate(gradients: string[]): string | undefined {
    if (gradients.length === 0) return undefined;
    const b = this.b;
    const sums = gradients.map((g) =>
      b.op1('Cast', [b.reduceSum(g, undefined, false)], { to: { int: DataType.FLOAT } }),
    );
    return b.op1('IsNaN', [sums.length > 1 ? b.op1('Sum', sums) : sums[0]!]);
  }

  /** Copies of segment `s`'s nodes that depend on tensors from outside it, those inputs passed through the gate. */
  private emitCopy(s: number, gate: string | undefined): Map<string, string> {
    const b = this.b;
    const copies = new Map<string, string>();
    const gated = new Map<string, string>();
    const fromOutside = (t: string) => {
      const p = this.producer.get(t);
      return p !== undefined && p !== s;
    };
    const through = (t: string) => {
      if (!gated.has(t)) gated.set(t, gate ? b.op1('Where', [gate, t, t]) : t);
      return gated.get(t)!;
    };
    for (const n of this.nodesOf.get(s) ?? []) {
      if (NOT_REPEATABLE.has(n.opType) || n.attribute.some((a) => a.g || a.graphs.length)) continue;
      if (!n.input.some((i) => i && (copies.has(i) || fromOutside(i)))) continue;
      const copy = clone(NodeProtoSchema, n);
      copy.name = b.names.take(`${n.name || n.opType}/recompute`);
      copy.input = n.input.map((i) => (!i ? i : (copies.get(i) ?? (fromOutside(i) ? through(i) : i))));
      copy.output = n.output.map((o) => {
        if (!o) return o;
        const name = b.names.take(`${o}/recompute`);
        copies.set(o, name);
        return name;
      });
      this.graph.node.push(copy);
    }
    return copies;
  }
}
