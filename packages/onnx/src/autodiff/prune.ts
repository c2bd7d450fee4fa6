import type { GraphProto } from 'onnx-buf';

/** Options of {@link prune}. */
export interface PruneOptions {
  /** Index of the first emitted node: nodes before it (the forward graph) are never removed. */
  firstNode: number;
  /** Index of the first emitted initializer: only those after it may be removed. */
  firstInitializer: number;
  /** Tensors the emitted nodes exist to compute (gradient outputs). */
  keep: Set<string>;
}

/**
 * Removes emitted nodes that do not contribute to `keep` (rules emit gradients for every input; the ones no
 * `wrt` tensor needs die here), then the emitted constants nothing reads any more.
 */
export function prune(graph: GraphProto, options: PruneOptions): void {
  const needed = new Set(options.keep);
  for (const o of graph.output) needed.add(o.name);
  const emitted = graph.node.slice(options.firstNode);
  const live = new Array<boolean>(emitted.length).fill(false);
  for (let k = emitted.length - 1; k >= 0; k--) {
    const node = emitted[k]!;
    if (!node.output.some((o) => needed.has(o))) continue;
    live[k] = true;
    for (const i of node.input) if (i) needed.add(i);
  }
  graph.node = [...graph.node.slice(0, options.firstNode), ...emitted.filter((_, k) => live[k])];
  const read = new Set(graph.node.flatMap((n) => n.input));
  for (const o of graph.output) read.add(o.name);
  graph.initializer = graph.initializer.filter((t, k) => k < options.firstInitializer || read.has(t.name));
}
