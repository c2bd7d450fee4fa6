import { jsonPreview, loraScaling, MorConfigError, validateMorConfig, type MorConfig } from '@mor/core';
import { AdapterFormatError } from '../errors.js';
import { isRecord, parseJsonText, setOwn } from './json-text.js';
import { MOR_FORMAT_VERSION } from './types.js';

/** What adapter_config.json says, before any tensor is read. */
export type AdapterConfigInfo =
  | {
      kind: 'mor';
      config: MorConfig;
      staticGates: Record<string, number[]>;
      rawConfig: Record<string, unknown>;
      taskType: string | null;
      baseModel: string | null;
    }
  | {
      kind: 'moelora';
      config: MorConfig;
      rawConfig: Record<string, unknown>;
      taskType: string | null;
      baseModel: string | null;
    }
  | {
      kind: 'lora';
      r: number;
      alpha: number;
      scaling: number;
      useRslora: boolean;
      fanInFanOut: boolean;
      /** `null` when target_modules is a regex or absent. */
      targetList: string[] | null;
      targetPattern: string | null;
      rawConfig: Record<string, unknown>;
      taskType: string | null;
      baseModel: string | null;
    };

/** JSON key of each MorConfig field (MOR and MOELORA configs), to name the key the user wrote when core refuses a value. */
export const MOR_CONFIG_KEYS = {
  r: 'r',
  alpha: 'lora_alpha',
  experts: 'num_experts',
  topK: 'top_k',
  routerBias: 'router_bias',
  dropout: 'lora_dropout',
  targets: 'target_modules',
  routerAuxLossCoef: 'router_aux_loss_coef',
} as const satisfies Record<keyof MorConfig, string>;

/**
 * Reads and validates adapter_config.json (MOR, MOELORA or PEFT LORA).
 *
 * @throws {AdapterFormatError} naming `fileName` for bad JSON, an unknown `peft_type`, a newer `format_version`,
 *   or any invalid value.
 */
export function readAdapterConfig(text: string, fileName: string): AdapterConfigInfo {
  const raw = parseJsonText(text, fileName);
  const fail = (detail: string): never => {
    throw new AdapterFormatError(detail, { fileName });
  };
  if (!isRecord(raw)) return fail('not a JSON object');
  const taskType = nullableString(raw, 'task_type', fail);
  const baseModel = nullableString(raw, 'base_model_name_or_path', fail);
  const peftType = raw['peft_type'];
  if (peftType === 'MOR' || peftType === 'MOELORA') {
    const version = raw['format_version'] ?? MOR_FORMAT_VERSION;
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
      fail(`format_version: expected a positive integer, got ${jsonPreview(version)}`);
    }
    if ((version as number) > MOR_FORMAT_VERSION) {
      fail(
        `format_version ${String(version)} is newer than this reader (it knows up to ${MOR_FORMAT_VERSION}); update @mor/format`,
      );
    }
    if (peftType === 'MOELORA') {
      const config = morConfigFrom(raw, fileName, 'MoELoRA');
      // MoELoRA's gates come from its router; a fixed gate would silently be ignored, so refuse it.
      if (raw['static_gates'] !== undefined && raw['static_gates'] !== null)
        fail('static_gates: a MoELoRA adapter has no static gates (its router is part of the adapter)');
      return { kind: 'moelora', config, rawConfig: raw, taskType, baseModel };
    }
    const config = morConfigFrom(raw, fileName, 'MoR');
    const staticGates = readStaticGates(raw['static_gates'], config.experts, fail);
    return { kind: 'mor', config, staticGates, rawConfig: raw, taskType, baseModel };
  }
  if (peftType === 'LORA') return { ...readLoraConfig(raw, fail), rawConfig: raw, taskType, baseModel };
  return fail(`unknown peft_type ${jsonPreview(peftType)} (this reader knows "MOR", "MOELORA" and "LORA")`);
}

function morConfigFrom(raw: Record<string, unknown>, fileName: string, label: 'MoR' | 'MoELoRA'): MorConfig {
  try {
    return validateMorConfig({
      r: raw['r'],
      alpha: raw['lora_alpha'],
      experts: raw['num_experts'],
      topK: raw['top_k'],
      routerBias: raw['router_bias'],
      dropout: raw['lora_dropout'],
      targets: raw['target_modules'],
      routerAuxLossCoef: raw['router_aux_loss_coef'],
    });
  } catch (error) {
    if (!(error instanceof MorConfigError)) throw error;
    const key = MOR_CONFIG_KEYS[error.field as keyof MorConfig] ?? error.field;
    const detail = error.message.replace(`invalid MoR config: ${error.field}: `, '');
    throw new AdapterFormatError(
      `invalid ${label} config: ${key}: ${detail}`,
      { fileName },
      { cause: error },
    );
  }
}

function readStaticGates(
  value: unknown,
  experts: number,
  fail: (d: string) => never,
): Record<string, number[]> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) return fail('static_gates: expected an object {"name": [g_0, …]}');
  const gates: Record<string, number[]> = {};
  for (const [name, gate] of Object.entries(value)) {
    if (
      !Array.isArray(gate) ||
      gate.length !== experts ||
      !gate.every((g) => typeof g === 'number' && Number.isFinite(g))
    ) {
      fail(
        `static_gates.${name}: expected ${experts} finite numbers (num_experts), got ${jsonPreview(gate)}`,
      );
    }
    setOwn(gates, name, [...(gate as number[])]);
  }
  return gates;
}

function readLoraConfig(raw: Record<string, unknown>, fail: (d: string) => never) {
  const r = raw['r'];
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1)
    return fail(`r: expected an integer ≥ 1, got ${jsonPreview(r)}`);
  const alpha = raw['lora_alpha'] ?? 8; // PEFT's default
  if (typeof alpha !== 'number' || !Number.isFinite(alpha))
    return fail(`lora_alpha: expected a number, got ${jsonPreview(alpha)}`);
  const useRslora = flag(raw, 'use_rslora', fail);
  const fanInFanOut = flag(raw, 'fan_in_fan_out', fail);
  if (flag(raw, 'use_dora', fail)) fail('use_dora: DoRA adapters are not supported (only plain LoRA)');
  for (const key of ['rank_pattern', 'alpha_pattern']) {
    const pattern = raw[key];
    if (isRecord(pattern) && Object.keys(pattern).length > 0) {
      fail(`${key}: per-module ranks/alphas are not supported (every module must use r and lora_alpha)`);
    }
  }
  const targets = raw['target_modules'];
  let targetList: string[] | null = null;
  let targetPattern: string | null = null;
  if (typeof targets === 'string') targetPattern = targets;
  else if (Array.isArray(targets) && targets.every((t) => typeof t === 'string'))
    targetList = [...(targets as string[])];
  else if (targets !== undefined && targets !== null)
    fail(`target_modules: expected a list of names or a regex string, got ${jsonPreview(targets)}`);
  const scaling = loraScaling({ alpha, r, useRslora });
  return { kind: 'lora' as const, r, alpha, scaling, useRslora, fanInFanOut, targetList, targetPattern };
}

function flag(raw: Record<string, unknown>, key: string, fail: (d: string) => never): boolean {
  const v = raw[key] ?? false;
  if (typeof v !== 'boolean') return fail(`${key}: expected true or false, got ${jsonPreview(v)}`);
  return v;
}

function nullableString(
  raw: Record<string, unknown>,
  key: string,
  fail: (d: string) => never,
): string | null {
  const v = raw[key] ?? null;
  if (v !== null && typeof v !== 'string')
    return fail(`${key}: expected a string or null, got ${jsonPreview(v)}`);
  return v;
}
