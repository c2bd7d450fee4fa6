import { AdapterFormatError } from '../errors.js';
import type { SafetensorsTensor } from '../safetensors/types.js';
import { PEFT_PREFIX } from './types.js';

/** Tensor-name suffix of each MoR parameter (adapter-format.md). */
export const MOR_SUFFIXES = {
  A: 'mor_A.weight',
  B: 'mor_B.weight',
  omegaA: 'mor_omega_A',
  omegaB: 'mor_omega_B',
  routerWeight: 'mor_router.weight',
  routerBias: 'mor_router.bias',
} as const;

/** Tensor-name suffix of each PEFT LoRA parameter. */
export const LORA_SUFFIXES = { A: 'lora_A.weight', B: 'lora_B.weight' } as const;

/** Tensor-name suffixes of a MoELoRA module's router; its experts are {@link moeLoraExpertSuffix}. */
export const MOELORA_ROUTER_SUFFIXES = {
  routerWeight: 'moelora_router.weight',
  routerBias: 'moelora_router.bias',
} as const;

/** `moelora_A.{i}.weight` / `moelora_B.{i}.weight`: expert i's PEFT-shaped `lora_A` / `lora_B`. */
export function moeLoraExpertSuffix(which: 'A' | 'B', expert: number): string {
  return `moelora_${which}.${expert}.weight`;
}

export type MorRole = keyof typeof MOR_SUFFIXES;
export type LoraRole = keyof typeof LORA_SUFFIXES;
/** `A.3` is expert 3's `moelora_A.3.weight`. */
export type MoeLoraRole = keyof typeof MOELORA_ROUTER_SUFFIXES | `A.${number}` | `B.${number}`;

/** Which of the three tensor families a file holds (from `peft_type`). */
export type AdapterKind = 'mor' | 'lora' | 'moelora';
type RoleOf<K extends AdapterKind> = K extends 'mor' ? MorRole : K extends 'lora' ? LoraRole : MoeLoraRole;

/** The suffix a role is written under (for messages that list a group's tensors). */
export function roleSuffix(kind: AdapterKind, role: string): string {
  if (kind === 'mor') return MOR_SUFFIXES[role as MorRole];
  if (kind === 'lora') return LORA_SUFFIXES[role as LoraRole];
  const expert = /^([AB])\.(\d+)$/.exec(role);
  if (expert) return moeLoraExpertSuffix(expert[1] as 'A' | 'B', Number(expert[2]));
  return MOELORA_ROUTER_SUFFIXES[role as keyof typeof MOELORA_ROUTER_SUFFIXES];
}

/** The full name of a module's tensor, as PEFT writes it. */
export function adapterTensorName(module: string, suffix: string): string {
  return `${PEFT_PREFIX}${module}.${suffix}`;
}

/** The tensors of one adapted module, by role. */
export type TensorGroup<Role extends string> = Map<Role, SafetensorsTensor>;

const FAMILY: Record<AdapterKind, { label: string; peftType: string; expected: string }> = {
  mor: {
    label: 'MoR',
    peftType: 'MOR',
    expected: `MODULE.{${Object.values(MOR_SUFFIXES).join(',')}}`,
  },
  lora: { label: 'LoRA', peftType: 'LORA', expected: `MODULE.{${Object.values(LORA_SUFFIXES).join(',')}}` },
  moelora: {
    label: 'MoELoRA',
    peftType: 'MOELORA',
    expected: `MODULE.{moelora_A.{i}.weight,moelora_B.{i}.weight,${Object.values(MOELORA_ROUTER_SUFFIXES).join(',')}}`,
  },
};

/**
 * Splits a file's tensors into one group per module, in file order.
 *
 * @throws {AdapterFormatError} for a name without PEFT's prefix, a name that is no known MoR, MoELoRA or LoRA
 *   tensor, or a tensor of another adapter kind.
 */
export function groupTensors<K extends AdapterKind>(
  tensors: Iterable<SafetensorsTensor>,
  kind: K,
  fileName: string,
): Map<string, TensorGroup<RoleOf<K>>> {
  type Role = RoleOf<K>;
  const groups = new Map<string, TensorGroup<Role>>();
  for (const tensor of tensors) {
    const fail = (detail: string): never => {
      throw new AdapterFormatError(detail, { fileName, tensorName: tensor.name });
    };
    const match = matchTensor(tensor.name, kind);
    if (match === null) {
      const other = (Object.keys(FAMILY) as AdapterKind[]).find(
        (k) => k !== kind && matchTensor(tensor.name, k) !== null,
      );
      if (other !== undefined) {
        fail(
          `a ${FAMILY[other].label} tensor in a ${FAMILY[kind].peftType} adapter (see peft_type in adapter_config.json)`,
        );
      }
      return fail(
        `unknown tensor name: expected ${FAMILY[kind].expected} (not a MoR mor_*, MoELoRA moelora_* or LoRA lora_* tensor)`,
      );
    }
    const [role, modulePath] = match as [Role, string];
    if (!modulePath.startsWith(PEFT_PREFIX))
      fail(`expected a name starting with '${PEFT_PREFIX}' (PEFT's prefix)`);
    const module = modulePath.slice(PEFT_PREFIX.length);
    if (module === '') fail('the module path is empty');
    let group = groups.get(module);
    if (group === undefined) groups.set(module, (group = new Map()));
    group.set(role, tensor);
  }
  return groups;
}

/** `[role, module path with PEFT's prefix]` when `name` is a tensor of the `kind` family, else null. */
function matchTensor(name: string, kind: AdapterKind): [string, string] | null {
  if (kind === 'moelora') {
    // Expert indices are plain decimals (`0`, `12`, not `01`): one name per expert, as PEFT numbers modules.
    const expert = /^(.*)\.moelora_([AB])\.(0|[1-9]\d*)\.weight$/.exec(name);
    if (expert) return [`${expert[2]}.${expert[3]}`, expert[1]!];
    return matchSuffix(name, MOELORA_ROUTER_SUFFIXES);
  }
  return matchSuffix(name, kind === 'mor' ? MOR_SUFFIXES : LORA_SUFFIXES);
}

function matchSuffix(name: string, suffixes: Record<string, string>): [string, string] | null {
  for (const [role, suffix] of Object.entries(suffixes)) {
    if (name.endsWith(`.${suffix}`)) return [role, name.slice(0, -suffix.length - 1)];
  }
  return null;
}
