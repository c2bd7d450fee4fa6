import type { GraphProto } from 'onnx-buf';
import { MergeError } from '../errors.js';
import type { GraphIndex } from '../graph/graph-index.js';
import { floatTensor, setTensorFloats, tensorToFloat32 } from '../graph/tensor-data.js';
import type { UniqueNames } from '../graph/unique-names.js';
import type { LinearLayer } from '../match/linear-layer.js';

/** Throws a {@link MergeError} when a layer's weight cannot take an exact float update. */
export function assertMergeable(module: string, layer: LinearLayer): void {
  if (layer.quantized) {
    throw new MergeError(
      module,
      `its base weight ${layer.weight} is quantized (${layer.kind}); merging would need requantization. ` +
        'Apply the adapter as a branch (applyAdapter) or merge into the float model before quantizing.',
    );
  }
}

/**
 * Adds `delta` (`[d_out, d_in]`, the mathematical update of `y = W x`) to a layer's base weight, in the weight's
 * storage layout and element type (fp16 stays fp16). A weight shared with other nodes is cloned and only this
 * layer is pointed at the clone; a weight read through a Transpose gets a clone in the MatMul's own layout.
 */
export function addWeightDelta(
  graph: GraphProto,
  index: GraphIndex,
  names: UniqueNames,
  module: string,
  layer: LinearLayer,
  delta: Float32Array,
): void {
  assertMergeable(module, layer);
  const tensor = index.constantTensor(layer.weight) ?? index.initializers.get(layer.weight);
  const node = index.producers.get(layer.output);
  if (!tensor || !node) throw new MergeError(module, `weight ${layer.weight} or the layer node is missing`);
  const { dIn, dOut } = layer;
  const stored = tensorToFloat32(tensor);
  const inPlace = !layer.shared && index.initializers.has(layer.weight);
  // When cloning a weight read through a Transpose, write the clone in the MatMul's [d_in,d_out] layout.
  const layout = !inPlace && layer.weightTranspose ? '[d_in,d_out]' : layer.weightLayout;
  const w = new Float32Array(dIn * dOut);
  if (layout === layer.weightLayout) w.set(stored);
  else for (let o = 0; o < dOut; o++) for (let i = 0; i < dIn; i++) w[i * dOut + o] = stored[o * dIn + i]!;
  const s = 1 / layer.alpha; // Gemm computes alpha·x·W', so W' moves by delta/alpha
  for (let o = 0; o < dOut; o++) {
    for (let i = 0; i < dIn; i++) {
      const at = layout === '[d_in,d_out]' ? i * dOut + o : o * dIn + i;
      w[at] += s * delta[o * dIn + i]!;
    }
  }
  if (inPlace) {
    setTensorFloats(tensor, w);
    return;
  }
  const name = names.take(`${layer.weight}.merged.${module}`);
  const dims = layout === '[d_in,d_out]' ? [dIn, dOut] : [dOut, dIn];
  graph.initializer.push(floatTensor(name, dims, w, tensor.dataType));
  node.input[1] = name;
}
