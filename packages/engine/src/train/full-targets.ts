import {
  DataType,
  findLinearLayers,
  initializersToInputs,
  tensorToFloat32,
  type ModelProto,
} from '@mor/onnx';
import { TrainSetupError } from './train-errors.js';
import type { HostTensor } from './types.js';

/**
 * Resolves `fullTargets` (initializer names, or module-path suffixes naming linear layers) to base initializers
 * and turns them into graph inputs, so they train like adapter parameters. Returns their values (copies).
 * A weight shared by several nodes (TorchScript dedupes equal tensors) trains as one tensor.
 */
export function makeBaseWeightsTrainable(model: ModelProto, targets: string[]): Map<string, HostTensor> {
  const graph = model.graph!;
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const layers = findLinearLayers(model);
  const chosen = new Set<string>();
  for (const target of targets) {
    if (initializers.has(target)) {
      chosen.add(target);
      continue;
    }
    const matched = layers.filter((l) => l.modulePath === target || l.modulePath.endsWith(`.${target}`));
    if (matched.length === 0)
      throw new TrainSetupError(
        `full target "${target}" is neither an initializer nor the path (suffix) of a linear layer`,
        { tensor: target },
      );
    for (const l of matched) {
      if (l.quantized || !initializers.has(l.weight))
        throw new TrainSetupError(`full target "${l.modulePath}" has no float weight initializer to train`, {
          tensor: l.weight,
        });
      chosen.add(l.weight);
    }
  }
  const values = new Map<string, HostTensor>();
  for (const t of initializersToInputs(graph, [...chosen])) {
    if (t.dataType !== DataType.FLOAT)
      throw new TrainSetupError(`full target "${t.name}" is not float32 (data type ${t.dataType})`, {
        tensor: t.name,
      });
    values.set(t.name, { dims: t.dims.map(Number), data: Float32Array.from(tensorToFloat32(t)) });
  }
  return values;
}
