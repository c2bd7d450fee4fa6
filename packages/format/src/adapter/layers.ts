import type { LoraLayerWeights, MoeLoraLayerWeights, MorConfig, MorLayerWeights } from '@mor/core';
import { AdapterFormatError } from '../errors.js';
import type { SafetensorsTensor } from '../safetensors/types.js';
import { expectShape } from './shape-check.js';
import {
  adapterTensorName,
  roleSuffix,
  type AdapterKind,
  type LoraRole,
  type MoeLoraRole,
  type MorRole,
  type TensorGroup,
} from './tensor-names.js';
import { readAdapterTensor } from './tensor-values.js';

/** Refuses a module whose group lacks a tensor, naming the first missing tensor and listing what is there. */
function requireRoles<Role extends string>(
  module: string,
  group: TensorGroup<Role>,
  roles: readonly Role[],
  kind: AdapterKind,
  fileName: string,
  why = '',
): void {
  const missing = roles.filter((role) => !group.has(role));
  if (missing.length === 0) return;
  const suffix = (role: Role) => roleSuffix(kind, role);
  const present = [...group.keys()].map(suffix).join(', ');
  throw new AdapterFormatError(
    `missing: module '${module}' has an incomplete tensor group (has ${present}; lacks ${missing.map(suffix).join(', ')})${why}`,
    { fileName, tensorName: adapterTensorName(module, suffix(missing[0]!)) },
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
  requireRoles(module, group, ['A', 'B', 'omegaA', 'omegaB', 'routerWeight'], 'mor', fileName);
  if (config.routerBias)
    requireRoles(module, group, ['routerBias'], 'mor', fileName, ' (router_bias is true)');
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
  requireRoles(module, group, ['A', 'B'], 'lora', fileName);
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

/**
 * Builds one MoELoRA layer from `moelora_A.{i}.weight [r, d_in]`, `moelora_B.{i}.weight [d_out, r]` for every
 * expert i < num_experts and the router, checking every shape against the config and against expert 0's
 * (`d_in`, `d_out`), and stacks the experts expert-major as `MoeLoraLayerWeights` holds them.
 */
export function buildMoeLoraLayer(
  module: string,
  group: TensorGroup<MoeLoraRole>,
  config: MorConfig,
  fileName: string,
): MoeLoraLayerWeights {
  const { r, experts: n } = config;
  for (const [role, tensor] of group) {
    const expert = /^[AB]\.(\d+)$/.exec(role);
    if (expert && Number(expert[1]) >= n) {
      throw new AdapterFormatError(
        `expert index ${expert[1]} is out of range: num_experts is ${n} in adapter_config.json (experts 0 … ${n - 1})`,
        { fileName, tensorName: tensor.name },
      );
    }
  }
  const experts = Array.from({ length: n }, (_, i) => i);
  const roles: MoeLoraRole[] = [
    ...experts.map((i): MoeLoraRole => `A.${i}`),
    ...experts.map((i): MoeLoraRole => `B.${i}`),
    'routerWeight',
  ];
  requireRoles(module, group, roles, 'moelora', fileName);
  if (config.routerBias)
    requireRoles(module, group, ['routerBias'], 'moelora', fileName, ' (router_bias is true)');
  const bias = group.get('routerBias');
  if (!config.routerBias && bias !== undefined) {
    throw new AdapterFormatError('present, but router_bias is false in adapter_config.json', {
      fileName,
      tensorName: bias.name,
    });
  }
  const t = (role: MoeLoraRole): SafetensorsTensor => group.get(role)!;
  const check = (role: MoeLoraRole, dims: Array<[number, string]>) =>
    expectShape(t(role).shape, dims, fileName, t(role).name);
  const dIn = t('A.0').shape[1] ?? 0;
  const dOut = t('B.0').shape[0] ?? 0;
  for (const i of experts) {
    check(`A.${i}`, [
      [r, 'r'],
      [dIn, i === 0 ? 'd_in' : 'd_in (columns of moelora_A.0.weight)'],
    ]);
    check(`B.${i}`, [
      [dOut, i === 0 ? 'd_out' : 'd_out (rows of moelora_B.0.weight)'],
      [r, 'r'],
    ]);
  }
  check('routerWeight', [
    [n, 'num_experts'],
    [dIn, 'd_in (columns of moelora_A.0.weight)'],
  ]);
  if (bias !== undefined) check('routerBias', [[n, 'num_experts']]);
  const read = (role: MoeLoraRole) => readAdapterTensor(t(role), fileName);
  const A = new Float32Array(n * r * dIn);
  const B = new Float32Array(n * dOut * r);
  for (const i of experts) {
    A.set(read(`A.${i}`), i * r * dIn);
    B.set(read(`B.${i}`), i * dOut * r);
  }
  return {
    dIn,
    dOut,
    r,
    experts: n,
    A,
    B,
    routerWeight: read('routerWeight'),
    routerBias: bias === undefined ? null : read('routerBias'),
  };
}
