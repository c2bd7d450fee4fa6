import { TensorProto_DataType as DataType, type GraphProto, type NodeProto } from 'onnx-buf';
import type { GraphBuilder } from '../graph/graph-builder.js';
import { opKey } from '../graph/graph-index.js';
import { typedBuilders } from './builder.js';
import { Checkpoints } from './checkpointing.js';
import { DECOMPOSABLE } from './decompose.js';
import { prune } from './prune.js';
import { viewDynamicQuantizedChains } from './quantized-chains.js';
import { AutodiffError, describeNode } from './errors.js';
import { GRADIENT_RULES } from './gradient-rules.js';
import { isNonDifferentiableOutput } from './no-gradient.js';
import type { GradContext } from './rule-context.js';
import { collectStaticInfo, type StaticInfo } from './static-info.js';
import { tensorValueInfo } from '../graph/value-info.js';
import { computeType } from './elem-types.js';
import { sumToShape } from './sum-to-shape.js';

/** Options of {@link buildGradientGraph}. */
export interface GradientGraphOptions {
  /** Name of the scalar tensor to differentiate (usually a graph output). */
  loss: string;
  /** Graph inputs or initializers to differentiate with respect to. */
  wrt: string[];
  /** The model's ai.onnx opset (from `ModelProto.opsetImport`), at least 13; rules read node forms by it. Default 17. */
  opset?: number;
  /** Compute type of emitted constants; default the declared type of the loss, else float32. */
  floatType?: DataType.FLOAT | DataType.DOUBLE;
  /** Name of the gradient output of `wrt` tensor `name`; default `grad.<name>`. */
  gradName?: (name: string) => string;
  /** Add the gradients as graph outputs (default true). */
  addOutputs?: boolean;
  /** Name scope of the emitted nodes and tensors; default `/grad`. */
  scope?: string;
  /**
   * Gradient checkpointing: keep only the tensors crossing decoder-layer boundaries (layers told by node names,
   * checkpointing.ts) and emit each layer's forward again for its backward, which reads the copies. Same values,
   * fewer activations alive at once, about one more forward of compute. Default false.
   */
  checkpointing?: boolean;
}

/** What {@link buildGradientGraph} did. */
export interface GradientGraphResult {
  /** Gradient tensor name per `wrt` name. */
  gradients: Map<string, string>;
  /** The forward nodes that were differentiated (on a path from a `wrt` tensor to the loss). */
  differentiated: NodeProto[];
  /** With `checkpointing`: the layers whose forward is recomputed in the backward, in walk order. */
  recomputedLayers: number[];
}

/**
 * Sums a broadcast gradient back to input `x`'s shape. MatMul/Gemm gradients of 1-D operands have other ranks
 * than the output (the reduction stays dynamic); between operands of rank ≥ 2 only the batch axes broadcast.
 */
function reduceToInput(b: GraphBuilder, info: StaticInfo, node: NodeProto, g: string, x: string): string {
  const y = node.output[0]!;
  if (node.opType === 'Gemm') return sumToShape(b, info, g, x, y, false);
  if (node.opType !== 'MatMul') return sumToShape(b, info, g, x, y);
  const ranks = node.input.slice(0, 2).map((i) => info.rank(i));
  const batched = ranks.every((r) => r !== undefined && r >= 2);
  return batched ? sumToShape(b, info, g, x, y, true, 2) : sumToShape(b, info, g, x, y, false);
}

const nodeLabel = (n: NodeProto, i: number) => n.name || `#${i} (${n.output.join(', ')})`;

/**
 * Reverse-mode autodiff over an ONNX graph: appends backward nodes (standard ai.onnx ops) computing the
 * gradient of `loss` w.r.t. each `wrt` tensor, mutating `graph`. Only nodes on a path from a `wrt` tensor to the
 * loss are differentiated; NO_GRADIENT ops (shape/integer paths) stop the path; several contributions to one
 * tensor are summed; broadcasting is undone once, here. Throws {@link AutodiffError} for an op on the path
 * without a rule (naming op type, domain and node) and for a `wrt` tensor that does not reach the loss.
 * Assumes `graph.node` is topologically sorted, as the ONNX spec requires. Dynamic-quantization chains are walked
 * as one com.microsoft DynamicQuantizeMatMul each (quantized-chains.ts); `differentiated` lists that view.
 */
export function buildGradientGraph(graph: GraphProto, options: GradientGraphOptions): GradientGraphResult {
  const { loss, wrt } = options;
  const info = collectStaticInfo(graph);
  const floatType =
    options.floatType ?? (info.elemType(loss) === DataType.DOUBLE ? DataType.DOUBLE : DataType.FLOAT);
  // q8 chains (DynamicQuantizeLinear → MatMulInteger → Cast → Mul) are walked as one node each.
  const forward = viewDynamicQuantizedChains(graph, graph.node);
  const nodeCount = graph.node.length;
  const initializerCount = graph.initializer.length;
  const builders = typedBuilders(graph, options.scope ?? '/grad', options.opset, floatType);
  const b = builders.main;

  // Tensors that depend on a wrt tensor through differentiable edges, then those that also reach the loss.
  const fromWrt = new Set(wrt);
  for (const n of forward)
    if (n.input.some((i) => fromWrt.has(i)))
      n.output.forEach((o, k) => o && !isNonDifferentiableOutput(n, k) && fromWrt.add(o));
  const onPath = new Set<string>(fromWrt.has(loss) ? [loss] : []);
  for (const n of [...forward].reverse())
    if (n.output.some((o) => onPath.has(o))) for (const i of n.input) if (fromWrt.has(i)) onPath.add(i);
  for (const w of wrt)
    if (!onPath.has(w))
      throw new AutodiffError(`"${w}" does not reach the loss "${loss}" through differentiable ops`, {
        tensor: w,
      });

  const contributions = new Map<string, string[]>();
  const addGrad = (name: string, g: string) =>
    contributions.set(name, [...(contributions.get(name) ?? []), g]);
  const total = (name: string): string | undefined => {
    const gs = contributions.get(name);
    if (gs === undefined) return undefined;
    if (gs.length > 1) contributions.set(name, [b.op1('Sum', gs)]);
    return contributions.get(name)![0];
  };
  addGrad(loss, b.fillLike(loss, 1));
  const checkpoints = options.checkpointing
    ? new Checkpoints(graph, graph.node.slice(0, nodeCount), b)
    : null;

  const differentiated: NodeProto[] = [];
  for (let k = forward.length - 1; k >= 0; k--) {
    const node = forward[k]!;
    if (!node.input.some((i) => onPath.has(i)) || !node.output.some((o) => onPath.has(o))) continue;
    differentiated.push(node);
    const where = describeNode(node.opType, node.domain, nodeLabel(node, k));
    const rule = GRADIENT_RULES.get(opKey(node));
    const context = { opType: node.opType, domain: node.domain || 'ai.onnx', node: nodeLabel(node, k) };
    if (rule === undefined) {
      const hint = DECOMPOSABLE.has(opKey(node))
        ? ' (run decomposeFusedOps first)'
        : opKey(node) === ':MatMulInteger'
          ? ' (only the dynamic-quantization form DynamicQuantizeLinear → MatMulInteger → Cast → Mul by the scales is trainable)'
          : '';
      throw new AutodiffError(`no gradient rule for ${where}${hint}`, context);
    }
    const c: GradContext = {
      b: builders.of(computeType(node, info.elemType)),
      node,
      x: [...node.input],
      y: [...node.output],
      dy: node.output.map((o) => total(o)),
      info,
    };
    checkpoints?.enter(node, c.dy, total);
    const emittedFrom = graph.node.length;
    const grads = rule.grad(c);
    const exact = rule.exact?.(c) ?? [];
    node.input.forEach((x, i) => {
      if (!x || !onPath.has(x)) return;
      const g = grads[i];
      if (g === null || g === undefined)
        throw new AutodiffError(
          `gradient rule for ${where} gives no gradient for its input ${i} "${x}"`,
          context,
        );
      addGrad(x, rule.broadcast && !exact[i] ? reduceToInput(c.b, info, node, g, x) : g);
      checkpoints?.contributed(x);
    });
    checkpoints?.rewrite(emittedFrom);
  }

  const gradients = new Map<string, string>();
  for (const w of wrt) {
    const name = (options.gradName ?? ((n: string) => `grad.${n}`))(w);
    b.op1('Identity', [total(w)!], {}, name);
    gradients.set(w, name);
    if (options.addOutputs ?? true) graph.output.push(tensorValueInfo(name, floatType, info.shape(w)));
  }
  prune(graph, {
    firstNode: nodeCount,
    firstInitializer: initializerCount,
    keep: new Set(gradients.values()),
  });
  return {
    gradients,
    differentiated: differentiated.reverse(),
    recomputedLayers: checkpoints?.recomputed ?? [],
  };
}
