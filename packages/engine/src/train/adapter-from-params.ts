import type { Adapter } from '@mor/format';
import type { AdapterParam } from '@mor/onnx';
import { TrainSetupError } from './train-errors.js';
import type { HostTensor } from './types.js';

/** Which adapter tensor a parameter (graph input) is, as applyAdapter placed it. */
export type AdapterTensorRef = Pick<AdapterParam, 'module' | 'tensor'>;

function valuesByModule(
  params: ReadonlyMap<string, HostTensor>,
  tensors: ReadonlyMap<string, AdapterTensorRef>,
): Map<string, Map<string, Float32Array>> {
  const modules = new Map<string, Map<string, Float32Array>>();
  for (const [name, value] of params) {
    const ref = tensors.get(name);
    if (!ref) throw new TrainSetupError(`parameter "${name}" is not an adapter tensor`, { tensor: name });
    if (!modules.has(ref.module)) modules.set(ref.module, new Map());
    modules.get(ref.module)!.set(ref.tensor, value.data);
  }
  return modules;
}

/**
 * The adapter `initial` with its weights replaced by the trained values `params` (graph inputs, `tensors` says
 * which adapter tensor each is); config, metadata and storage dtype are kept, ready for `saveAdapter`.
 */
export function adapterFromParams(
  initial: Adapter,
  params: ReadonlyMap<string, HostTensor>,
  tensors: ReadonlyMap<string, AdapterTensorRef>,
): Adapter {
  const values = valuesByModule(params, tensors);
  const get = (module: string, key: string): Float32Array => {
    const v = values.get(module)?.get(key);
    if (!v)
      throw new TrainSetupError(`no trained value for ${initial.kind}.${module}.${key}`, { module, key });
    return v;
  };
  if (initial.kind === 'mor') {
    const layers = new Map(
      [...initial.layers].map(([module, w]) => [
        module,
        {
          ...w,
          A: get(module, 'A'),
          B: get(module, 'B'),
          omegaA: get(module, 'omegaA'),
          omegaB: get(module, 'omegaB'),
          routerWeight: get(module, 'routerWeight'),
          routerBias: w.routerBias ? get(module, 'routerBias') : null,
        },
      ]),
    );
    return { ...initial, layers };
  }
  if (initial.kind === 'moelora') {
    // applyAdapter's MoELoRA parameters are the stacked arrays themselves: A [N·r, d_in], B [N, d_out, r].
    const layers = new Map(
      [...initial.layers].map(([module, w]) => [
        module,
        {
          ...w,
          A: get(module, 'A'),
          B: get(module, 'B'),
          routerWeight: get(module, 'routerWeight'),
          routerBias: w.routerBias ? get(module, 'routerBias') : null,
        },
      ]),
    );
    return { ...initial, layers };
  }
  const layers = new Map(
    [...initial.layers].map(([module, w]) => [module, { ...w, A: get(module, 'A'), B: get(module, 'B') }]),
  );
  return { ...initial, layers };
}
