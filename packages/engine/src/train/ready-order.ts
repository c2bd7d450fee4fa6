import type { ModelProto, NodeProto } from '@mor/onnx';

/**
 * The graph's nodes in the order they become ready (Kahn's sort, first ready first out): every node right after
 * the last of its inputs' producers has been placed. Null when the graph has subgraphs (their implicit inputs are
 * not visible here) or is not acyclic: keep the order as it is.
 */
export function readyOrder(nodes: readonly NodeProto[]): NodeProto[] | null {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.output) if (o) producer.set(o, i);
  });
  const waiting = new Array<number>(nodes.length).fill(0);
  const consumers: number[][] = nodes.map(() => []);
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    if (n.attribute.some((a) => a.g !== undefined || a.graphs.length > 0)) return null;
    for (const x of n.input) {
      const p = x ? producer.get(x) : undefined;
      if (p === undefined) continue;
      waiting[i]!++;
      consumers[p]!.push(i);
    }
  }
  const order: number[] = [];
  for (let i = 0; i < nodes.length; i++) if (waiting[i] === 0) order.push(i);
  for (let head = 0; head < order.length; head++)
    for (const c of consumers[order[head]!]!) if (--waiting[c]! === 0) order.push(c);
  return order.length === nodes.length ? order.map((i) => nodes[i]!) : null;
}

/**
 * Runs `encode` with the graph's nodes in {@link readyOrder}, then puts the original order back (our own passes
 * keep theirs).
 *
 * Why: onnxruntime builds a GraphViewer for every graph transformer it applies (and for partitioning and the
 * session state), and each one runs a priority-based Kahn sort whose ready list is a sorted `std::list` kept in
 * node-index (file) order; every insertion walks past the ready nodes of higher index. In the file order of an
 * autodiff train graph the backward's transposes and flattens of forward activations, the parameter-only
 * chains and the optimizer's prologue are ready long before their index comes up, so the list holds hundreds
 * to thousands of nodes and each sort costs O(nodes × waiting). In ready order almost nothing waits (a 16-layer
 * MoR train graph: 7.0M list steps per sort → 0.37M, the sort's share of session creation 23 % → 14 %).
 * onnxruntime executes in its own order (a reverse DFS from the graph's leaves; node indices only break ties), so
 * the kernels are the same: losses were bit-identical and step time and peak RSS unchanged (bench/README.md).
 */
export function inReadyOrder<T>(model: ModelProto, encode: () => T): T {
  const graph = model.graph!;
  const original = graph.node;
  const reordered = readyOrder(original);
  if (reordered) graph.node = reordered;
  try {
    return encode();
  } finally {
    graph.node = original;
  }
}
