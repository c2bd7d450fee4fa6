/**
 * Autodiff cannot differentiate a graph: an op on the path from a `wrt` tensor to the loss has no gradient rule,
 * a `wrt` tensor does not reach the loss, or a node has a form the rules do not handle.
 */
export class AutodiffError extends Error {
  override name = 'AutodiffError';
  constructor(
    message: string,
    /** Context: the node (op type, domain, name) or tensor concerned, when there is one. */
    readonly context: { opType?: string; domain?: string; node?: string; tensor?: string } = {},
  ) {
    super(message);
  }
}

/** Human-readable node label for error messages: `MatMul (ai.onnx) node "/m/q_proj/MatMul"`. */
export function describeNode(opType: string, domain: string, name: string): string {
  return `${opType} (${domain === '' ? 'ai.onnx' : domain}) node "${name}"`;
}
