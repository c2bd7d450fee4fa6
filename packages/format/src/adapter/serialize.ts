import { AdapterFormatError } from '../errors.js';
import { serializeSafetensors, type TensorToWrite } from '../safetensors/serialize.js';
import { adapterConfigObject } from './config-json.js';
import {
  LORA_SUFFIXES,
  MOELORA_ROUTER_SUFFIXES,
  MOR_SUFFIXES,
  adapterTensorName,
  moeLoraExpertSuffix,
} from './tensor-names.js';
import { assertFinite } from './tensor-values.js';
import { ADAPTER_WEIGHTS_FILE, type Adapter, type AdapterDtype } from './types.js';

/** Options of {@link serializeAdapter}. */
export interface SerializeAdapterOptions {
  /** Storage dtype of the tensors; defaults to `adapter.dtype`. F16/BF16 round to nearest even. */
  dtype?: AdapterDtype;
}

/** PEFT writes this metadata; writing it too keeps our files byte-identical to PEFT's. */
const PEFT_METADATA = { format: 'pt' };

/**
 * The two files of an adapter directory. The safetensors bytes follow the reference writer's layout, so an
 * adapter read from a PEFT/PyTorch file and written back unchanged gives the same bytes.
 *
 * @throws {AdapterFormatError} when a layer's arrays disagree with its declared sizes or hold NaN/±Inf
 *   (the file would be refused on reading).
 */
export function serializeAdapter(
  adapter: Adapter,
  options: SerializeAdapterOptions = {},
): { configJson: string; safetensors: Uint8Array } {
  const dtype = options.dtype ?? adapter.dtype;
  const tensors: TensorToWrite[] = [];
  const add = (module: string, suffix: string, shape: number[], data: Float32Array) => {
    const name = adapterTensorName(module, suffix);
    const expected = shape.reduce((a, b) => a * b, 1);
    if (data.length !== expected) {
      throw new AdapterFormatError(
        `has ${data.length} values but its shape ${JSON.stringify(shape)} needs ${expected}`,
        {
          fileName: ADAPTER_WEIGHTS_FILE,
          tensorName: name,
        },
      );
    }
    assertFinite(data, ADAPTER_WEIGHTS_FILE, name);
    tensors.push({ name, dtype, shape, data });
  };
  if (adapter.kind === 'mor') {
    const { r, experts: n, routerBias } = adapter.config;
    for (const [module, layer] of adapter.layers) {
      const { dIn, dOut } = layer;
      if (layer.r !== r || layer.experts !== n || (layer.routerBias !== null) !== routerBias) {
        throw new AdapterFormatError(
          `layer has r ${layer.r}, ${layer.experts} experts, router bias ${layer.routerBias !== null}; the config says r ${r}, num_experts ${n}, router_bias ${routerBias}`,
          { fileName: ADAPTER_WEIGHTS_FILE, tensorName: adapterTensorName(module, MOR_SUFFIXES.A) },
        );
      }
      add(module, MOR_SUFFIXES.A, [r, dIn], layer.A);
      add(module, MOR_SUFFIXES.B, [dOut, r], layer.B);
      add(module, MOR_SUFFIXES.omegaA, [n, r], layer.omegaA);
      add(module, MOR_SUFFIXES.omegaB, [n, dOut], layer.omegaB);
      add(module, MOR_SUFFIXES.routerWeight, [n, dIn], layer.routerWeight);
      if (layer.routerBias !== null) add(module, MOR_SUFFIXES.routerBias, [n], layer.routerBias);
    }
  } else if (adapter.kind === 'moelora') {
    const { r, experts: n, routerBias } = adapter.config;
    for (const [module, layer] of adapter.layers) {
      const { dIn, dOut } = layer;
      if (layer.r !== r || layer.experts !== n || (layer.routerBias !== null) !== routerBias) {
        throw new AdapterFormatError(
          `layer has r ${layer.r}, ${layer.experts} experts, router bias ${layer.routerBias !== null}; the config says r ${r}, num_experts ${n}, router_bias ${routerBias}`,
          {
            fileName: ADAPTER_WEIGHTS_FILE,
            tensorName: adapterTensorName(module, moeLoraExpertSuffix('A', 0)),
          },
        );
      }
      const stacked = (which: 'A' | 'B', data: Float32Array, per: number) => {
        if (data.length !== n * per) {
          throw new AdapterFormatError(
            `layer has ${data.length} ${which} values; ${n} experts of ${per} need ${n * per}`,
            {
              fileName: ADAPTER_WEIGHTS_FILE,
              tensorName: adapterTensorName(module, moeLoraExpertSuffix(which, 0)),
            },
          );
        }
      };
      stacked('A', layer.A, r * dIn);
      stacked('B', layer.B, dOut * r);
      for (let i = 0; i < n; i++) {
        add(module, moeLoraExpertSuffix('A', i), [r, dIn], layer.A.subarray(i * r * dIn, (i + 1) * r * dIn));
        add(
          module,
          moeLoraExpertSuffix('B', i),
          [dOut, r],
          layer.B.subarray(i * dOut * r, (i + 1) * dOut * r),
        );
      }
      add(module, MOELORA_ROUTER_SUFFIXES.routerWeight, [n, dIn], layer.routerWeight);
      if (layer.routerBias !== null) add(module, MOELORA_ROUTER_SUFFIXES.routerBias, [n], layer.routerBias);
    }
  } else {
    for (const [module, layer] of adapter.layers) {
      if (layer.r !== adapter.r) {
        throw new AdapterFormatError(`layer has r ${layer.r}; the config says r ${adapter.r}`, {
          fileName: ADAPTER_WEIGHTS_FILE,
          tensorName: adapterTensorName(module, LORA_SUFFIXES.A),
        });
      }
      add(module, LORA_SUFFIXES.A, [layer.r, layer.dIn], layer.A);
      add(module, LORA_SUFFIXES.B, [layer.dOut, layer.r], layer.B);
    }
  }
  const configJson = `${JSON.stringify(adapterConfigObject(adapter), null, 2)}\n`;
  return { configJson, safetensors: serializeSafetensors(tensors, PEFT_METADATA) };
}
