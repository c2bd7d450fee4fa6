import type { LoraLayerWeights, MorConfig, MorLayerWeights } from '@mor/core';
import { AdapterFormatError } from '../errors.js';
import type { SafetensorsTensor } from '../safetensors/types.js';
import { expectShape } from './shape-check.js';
import {
  LORA_SUFFIXES,
  MOR_SUFFIXES,
  adapterTensorName,
  type LoraRole,
  type MorRole,
  type TensorGroup,
} from './tensor-names.js';
import { readAdapterTensor } from './tensor-values.js';

/** Refuses a module whose group lacks a tensor, naming the first missing tensor and listing what is there. */
function requireRoles<Role extends string>(
  module: string,
  group: TensorGroup<Role>,
  roles: readonly Role[],
  suffixes: Record<Role, string>,
  fileName: string,
  why = '',
): void {
  const missing = roles.filter((role) => !group.has(role));
  if (missing.length === 0) return;
  const present = [...group.keys()].map((role) => suffixes[role]).join(', ');
  throw new AdapterFormatError(
    `missing: module '${module}' has an incomplete tensor group (has ${present}; lacks ${missing.map((r) => suffixes[r]).join(', ')})${why}`,
    { fileName, tensorName: adapterTensorName(module, suffixes[missing[0]!]) },
  );
}

/**
 * Builds one MoR layer from its tensors, checking every shape against the config (`r`, `num_experts`,
 * `router_bias`) and against each other (`d_in` from mor_A, `d_out` from mor_B).
 */
export function buildMorLayer(
  module: string,
  group: TensorGroup<MorRole>,
  config: MorConfig,
  fileName: string,
): MorLayerWeights {
  const { r, experts: n } = config;
  requireRoles(module, group, ['A', 'B', 'omegaA', 'omegaB', 'routerWeight'], MOR_SUFFIXES, fileName);
  if (config.routerBias)
    requireRoles(module, group, ['routerBias'], MOR_SUFFIXES, fileName, ' (router_bias is true)');
  const bias = group.get('routerBias');
  if (!config.routerBias && bias !== undefined) {
    throw new AdapterFormatError('present, but router_bias is false in adapter_config.json', {
      fileName,
      tensorName: bias.name,
    });
  }
  const t = (role: MorRole): SafetensorsTensor => group.get(role)!;
  const check = (role: MorRole, dims: Array<[number, string]>) =>
    expectShape(t(role).shape, dims, fileName, t(role).name);
  check('A', [
    [r, 'r'],
    [t('A').shape[1] ?? 0, 'd_in'],
  ]);
  const dIn = t('A').shape[1]!;
  check('B', [
    [t('B').shape[0] ?? 0, 'd_out'],
    [r, 'r'],
  ]);
  const dOut = t('B').shape[0]!;
  check('omegaA', [
    [n, 'num_experts'],
    [r, 'r'],
  ]);
  check('omegaB', [
    [n, 'num_experts'],
    [dOut, 'd_out (rows of mor_B.weight)'],
  ]);
  check('routerWeight', [
    [n, 'num_experts'],
    [dIn, 'd_in (columns of mor_A.weight)'],
  ]);
  if (bias !== undefined) check('routerBias', [[n, 'num_experts']]);
  const read = (role: MorRole) => readAdapterTensor(t(role), fileName);
  return {
    dIn,
    dOut,
    r,
    experts: n,
    A: read('A'),
    B: read('B'),
    omegaA: read('omegaA'),
    omegaB: read('omegaB'),
    routerWeight: read('routerWeight'),
    routerBias: bias === undefined ? null : read('routerBias'),
  };
}

/** Builds one LoRA layer: `lora_A.weight [r, d_in]`, `lora_B.weight [d_out, r]`. */
export function buildLoraLayer(
  module: string,
  group: TensorGroup<LoraRole>,
  r: number,
  fileName: string,
): LoraLayerWeights {
  requireRoles(module, group, ['A', 'B'], LORA_SUFFIXES, fileName);
  const a = group.get('A')!;
  const b = group.get('B')!;
  expectShape(
    a.shape,
    [
      [r, 'r'],
      [a.shape[1] ?? 0, 'd_in'],
    ],
    fileName,
    a.name,
  );
  expectShape(
    b.shape,
    [
      [b.shape[0] ?? 0, 'd_out'],
      [r, 'r'],
    ],
    fileName,
    b.name,
  );
  return {
    dIn: a.shape[1]!,
    dOut: b.shape[0]!,
    r,
    A: readAdapterTensor(a, fileName),
    B: readAdapterTensor(b, fileName),
  };
}
