import type { GraphProto, ModelProto, NodeProto, TensorProto } from 'onnx-buf';
import { GraphError } from '../errors.js';

/**
 * Lookup tables over one graph: initializers by name, the node producing each value, the nodes consuming it.
 * Build it again after editing the graph (it is a snapshot, cheap to make).
 */
export class GraphIndex {
  readonly initializers = new Map<string, TensorProto>();
  readonly producers = new Map<string, NodeProto>();
  readonly consumers = new Map<string, NodeProto[]>();
  readonly graphInputs = new Set<string>();
  readonly graphOutputs = new Set<string>();

  constructor(readonly graph: GraphProto) {
    for (const t of graph.initializer) this.initializers.set(t.name, t);
    for (const v of graph.input) this.graphInputs.add(v.name);
    for (const v of graph.output) this.graphOutputs.add(v.name);
    for (const node of graph.node) {
      for (const o of node.output) if (o) this.producers.set(o, node);
      for (const i of node.input) {
        if (!i) continue;
        const list = this.consumers.get(i);
        if (list) {
          if (!list.includes(node)) list.push(node);
        } else this.consumers.set(i, [node]);
      }
    }
  }

  /** The nodes reading `value` (empty when none). */
  consumersOf(value: string): NodeProto[] {
    return this.consumers.get(value) ?? [];
  }

  /**
   * The initializer behind `value`: an initializer itself, or the tensor of a `Constant` node producing it.
   * Graph inputs that shadow an initializer (overridable defaults) do not count as constants.
   */
  constantTensor(value: string): TensorProto | undefined {
    if (this.graphInputs.has(value)) return undefined;
    const init = this.initializers.get(value);
    if (init) return init;
    const node = this.producers.get(value);
    if (node && opKey(node) === ':Constant') {
      const attr = node.attribute.find((a) => a.name === 'value');
      return attr?.t;
    }
    return undefined;
  }
}

/** The model's graph, or a clear error when it has none. */
export function modelGraph(model: ModelProto): GraphProto {
  if (!model.graph) throw new GraphError('the model has no graph');
  return model.graph;
}

/**
 * The ai.onnx opset assumed wherever a model imports none or an option is left out: what torch 2.x exports (and
 * the model builder writes).
 */
export const DEFAULT_OPSET = 17;

/** The key of a node in the op tables: `domain:opType`, with ai.onnx written `''` however the node spells it. */
export const opKey = (node: Pick<NodeProto, 'domain' | 'opType'>): string =>
  `${node.domain === 'ai.onnx' ? '' : node.domain}:${node.opType}`;

/** The opset version imported for `domain` ('' = ai.onnx), or undefined when not imported. */
export function opsetVersion(model: ModelProto, domain = ''): number | undefined {
  const entry = model.opsetImport.find(
    (o) => o.domain === domain || (domain === '' && o.domain === 'ai.onnx'),
  );
  return entry === undefined ? undefined : Number(entry.version);
}
