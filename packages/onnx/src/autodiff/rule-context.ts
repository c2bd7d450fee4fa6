import type { NodeProto } from 'onnx-buf';
import type { GraphBuilder } from '../graph/graph-builder.js';
import type { StaticInfo } from './static-info.js';

/** What a gradient rule sees of one forward node. */
export interface GradContext {
  /** Emits the backward nodes (op, constants). */
  b: GraphBuilder;
  node: NodeProto;
  /** Input names of the forward node (`''` for an omitted optional input). */
  x: string[];
  /** Output names of the forward node. */
  y: string[];
  /** Gradient of the loss w.r.t. each output; `undefined` where no gradient flows into that output. */
  dy: (string | undefined)[];
  /** Static ranks/shapes of the forward graph. */
  info: StaticInfo;
}

/** One entry of the gradient table. */
export interface GradientRule {
  /** One gradient per input, in input order; `null` for inputs that carry none (indices, shapes, axes). */
  grad(c: GradContext): (string | null)[];
  /**
   * The gradients may have the broadcast (output) shape rather than the input's: the walker sums them back to
   * each input's shape (binary elementwise ops, Expand, batched MatMul).
   */
  broadcast?: boolean;
  /**
   * With `broadcast`: which inputs' gradients the rule already returns in the input's exact shape, so the walker
   * need not emit the runtime reduction (e.g. MatMul against a 2-D weight). Default: none.
   */
  exact?: (c: GradContext) => boolean[];
  /**
   * The rule is a straight-through estimator, not the derivative of the op (quantized activations: the exact one
   * is zero almost everywhere), so finite differences cannot check it; its tests compare it with the gradient of
   * the float op it stands for (test/autodiff/straight-through.test.ts).
   */
  straightThrough?: boolean;
}
