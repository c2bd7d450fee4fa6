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

export type MorRole = keyof typeof MOR_SUFFIXES;
export type LoraRole = keyof typeof LORA_SUFFIXES;

/** The full name of a module's tensor, as PEFT writes it. */
export function adapterTensorName(module: string, suffix: string): string {
  return `${PEFT_PREFIX}${module}.${suffix}`;
}

/** The tensors of one adapted module, by role. */
export type TensorGroup<Role extends string> = Map<Role, SafetensorsTensor>;

/**
 * Splits a file's tensors into one group per module, in file order.
 *
 * @throws {AdapterFormatError} for a name without PEFT's prefix, a name that is neither a known MoR nor LoRA tensor,
 *   or a tensor of the other adapter kind.
 */
export function groupTensors<K extends 'mor' | 'lora'>(
  tensors: Iterable<SafetensorsTensor>,
  kind: K,
  fileName: string,
): Map<string, TensorGroup<K extends 'mor' ? MorRole : LoraRole>> {
  type Role = K extends 'mor' ? MorRole : LoraRole;
  const own = (kind === 'mor' ? MOR_SUFFIXES : LORA_SUFFIXES) as Record<Role, string>;
  const other: Record<string, string> = kind === 'mor' ? LORA_SUFFIXES : MOR_SUFFIXES;
  const groups = new Map<string, TensorGroup<Role>>();
  for (const tensor of tensors) {
    const fail = (detail: string): never => {
      throw new AdapterFormatError(detail, { fileName, tensorName: tensor.name });
    };
    const match = matchSuffix(tensor.name, own);
    if (match === null) {
      if (matchSuffix(tensor.name, other) !== null) {
        fail(
          `a ${kind === 'mor' ? 'LoRA' : 'MoR'} tensor in a ${kind === 'mor' ? 'MOR' : 'LORA'} adapter (see peft_type in adapter_config.json)`,
        );
      }
      return fail(
        `unknown tensor name: expected MODULE.{${Object.values(own).join(',')}} (neither a MoR mor_* nor a LoRA lora_* tensor)`,
      );
    }
    const [role, modulePath] = match;
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

function matchSuffix<Role extends string>(
  name: string,
  suffixes: Record<Role, string>,
): [Role, string] | null {
  for (const [role, suffix] of Object.entries(suffixes) as Array<[Role, string]>) {
    if (name.endsWith(`.${suffix}`)) return [role, name.slice(0, -suffix.length - 1)];
  }
  return null;
}
