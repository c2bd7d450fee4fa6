/** Bytes are not a valid ONNX model, or its external data cannot be resolved or written. */
export class OnnxIoError extends Error {
  override name = 'OnnxIoError';
  constructor(
    message: string,
    /** The tensor or external-data file concerned, when there is one. */
    readonly tensor?: string,
  ) {
    super(message);
  }
}

/** An adapter module matches no layer (or several), or a layer's shape disagrees with the adapter. */
export class LayerMatchError extends Error {
  override name = 'LayerMatchError';
  constructor(
    /** The adapter module path, e.g. `model.layers.0.mlp.gate_proj`. */
    readonly module: string,
    message: string,
  ) {
    super(`${module}: ${message}`);
  }
}

/** A graph does not have the structure a pass expects (missing initializer, unsupported opset, …). */
export class GraphError extends Error {
  override name = 'GraphError';
  constructor(
    message: string,
    /** The node or tensor concerned. */
    readonly where?: string,
  ) {
    super(where === undefined ? message : `${where}: ${message}`);
  }
}

/** A merge cannot be done exactly (quantized base weight, missing weight data, …). */
export class MergeError extends Error {
  override name = 'MergeError';
  constructor(
    readonly module: string,
    message: string,
  ) {
    super(`cannot merge into ${module}: ${message}`);
  }
}
