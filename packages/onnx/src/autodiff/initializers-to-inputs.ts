import type { GraphProto } from 'onnx-buf';
import { tensorValueInfo } from '../graph/value-info.js';
import { AutodiffError } from './errors.js';

/**
 * Turns initializers into graph inputs (same name, type and shape) so they can be fed and trained; returns the
 * removed initializers so the caller can feed their values. Throws when a name is not an initializer.
 */
export function initializersToInputs(graph: GraphProto, names: string[]) {
  const wanted = new Set(names);
  const moved = graph.initializer.filter((t) => wanted.has(t.name));
  for (const name of names)
    if (!moved.some((t) => t.name === name))
      throw new AutodiffError(`"${name}" is not an initializer of the graph`, { tensor: name });
  graph.initializer = graph.initializer.filter((t) => !wanted.has(t.name));
  const declared = new Set(graph.input.map((i) => i.name));
  for (const t of moved)
    if (!declared.has(t.name)) graph.input.push(tensorValueInfo(t.name, t.dataType, t.dims.map(Number)));
  return moved;
}
