import type { Adapter } from '@mor/format';
import { TrainSetupError } from './train-errors.js';
import type { HostTensor } from './types.js';

/** Parameter names as applyAdapter writes them: `<mor|lora>.<module>.<tensor>`. */
function valuesByModule(
  kind: string,
  params: ReadonlyMap<string, HostTensor>,
): Map<string, Map<string, Float32Array>> {
  const modules = new Map<string, Map<string, Float32Array>>();
  for (const [name, value] of params) {
    const dot = name.lastIndexOf('.');
    if (!name.startsWith(`${kind}.`) || dot < 0)
      throw new TrainSetupError(`parameter "${name}" is not a ${kind} adapter tensor`, { tensor: name });
    const module = name.slice(kind.length + 1, dot);
    if (!modules.has(module)) modules.set(module, new Map());
    modules.get(module)!.set(name.slice(dot + 1), value.data);
  }
  return modules;
}

/**
 * The adapter `initial` with its weights replaced by the trained values (config, metadata and storage dtype are
 * kept), ready for `saveAdapter`.
 */
export function adapterFromParams(initial: Adapter, params: ReadonlyMap<string, HostTensor>): Adapter {
  const values = valuesByModule(initial.kind, params);
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
  const layers = new Map(
    [...initial.layers].map(([module, w]) => [module, { ...w, A: get(module, 'A'), B: get(module, 'B') }]),
  );
  return { ...initial, layers };
}
