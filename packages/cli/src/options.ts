import { MOR_DEVICES } from '@mor/engine';
import type { OptionSpec } from './command.js';
import { CliError } from './errors.js';

// Flags several commands share, declared once so their wording and syntax stay the same (docs/cli.md).
export const modelOption: OptionSpec = {
  flags: '--model <dir-or-id>',
  description: 'local transformers.js model directory, or a Hugging Face Hub id',
  required: true,
};
export const adapterOption: OptionSpec = {
  flags: '--adapter <dir-or-id>',
  description:
    'MoR or PEFT LoRA adapter directory, or a Hub id owner/name[@revision] (pulled with HF_ENDPOINT / HF_TOKEN into $MOR_CACHE or ~/.cache/mor)',
};
export const gateOption: OptionSpec = {
  flags: '--gate <spec>',
  description: 'fixed MoR gate: uniform, a JSON array of N numbers, or a static_gates name',
};
export const deviceOption: OptionSpec = {
  flags: '--device <device>',
  description: `where to run: ${MOR_DEVICES.join(', ')} (default cpu in Node)`,
};
export const dtypeOption: OptionSpec = {
  flags: '--dtype <dtype>',
  description: 'transformers.js dtype: picks onnx/model{,_fp16,_quantized,…}.onnx (default fp32)',
};

// The data flags `mor train` and `mor eval` share: the same wording, the same checks.
export const taskOption: OptionSpec = {
  flags: '--task <task>',
  description: "causal-lm or seq-cls (default from the model's config)",
};
export const maxLengthOption: OptionSpec = {
  flags: '--max-length <n>',
  description: 'truncate rows to n tokens (special tokens kept)',
};
/** `--batch-size`, described for the command (`rows per micro-batch`, `rows per forward pass`). */
export const batchSizeOption = (what: string): OptionSpec => ({
  flags: '--batch-size <n>',
  description: `${what} (default 8)`,
});

/** An optional string flag as commander hands it over. */
export function optionalString(options: Record<string, unknown>, key: string): string | undefined {
  const v = options[key];
  return typeof v === 'string' ? v : undefined;
}

/** A required string flag (commander has already refused a missing one). */
export function requiredString(options: Record<string, unknown>, key: string): string {
  const v = options[key];
  if (typeof v !== 'string')
    throw new CliError(`missing --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  return v;
}

/** A flag's text and its value as a number (NaN for blank text); undefined when the flag is absent. */
function numericFlag(options: Record<string, unknown>, key: string): { text: string; n: number } | undefined {
  const text = optionalString(options, key);
  return text === undefined ? undefined : { text, n: text.trim() === '' ? Number.NaN : Number(text) };
}

/** A finite number flag (`--lr 2e-4`); undefined when absent. */
export function optionalNumber(
  options: Record<string, unknown>,
  key: string,
  flag: string,
): number | undefined {
  const f = numericFlag(options, key);
  if (f && !Number.isFinite(f.n)) throw new CliError(`${flag} expects a number, got "${f.text}"`);
  return f?.n;
}

/** A positive integer flag, e.g. `--max-new-tokens 12`; undefined when absent. */
export function optionalPositiveInt(
  options: Record<string, unknown>,
  key: string,
  flag: string,
): number | undefined {
  const f = numericFlag(options, key);
  if (f && (!Number.isSafeInteger(f.n) || f.n < 1))
    throw new CliError(`${flag} expects a positive integer, got "${f.text}"`);
  return f?.n;
}

/** A non-negative integer flag (`--seed 0`); undefined when absent. */
export function optionalNonNegativeInt(
  options: Record<string, unknown>,
  key: string,
  flag: string,
): number | undefined {
  const f = numericFlag(options, key);
  if (f && (!Number.isSafeInteger(f.n) || f.n < 0))
    throw new CliError(`${flag} expects an integer ≥ 0, got "${f.text}"`);
  return f?.n;
}

/** The loading flags every model command passes through: `--adapter`, `--gate`, `--device`, `--dtype`. */
export function loadFlags(options: Record<string, unknown>): {
  adapter?: string;
  gate?: string;
  device?: string;
  dtype?: string;
} {
  const out: { adapter?: string; gate?: string; device?: string; dtype?: string } = {};
  for (const key of ['adapter', 'gate', 'device', 'dtype'] as const) {
    const v = optionalString(options, key);
    if (v !== undefined) out[key] = v;
  }
  if (out.gate !== undefined && out.adapter === undefined) throw new CliError('--gate needs --adapter');
  return out;
}

/** An optional flag whose value must be one of `valid`; undefined when absent. */
export function oneOf<T extends string>(
  options: Record<string, unknown>,
  key: string,
  flag: string,
  valid: readonly T[],
): T | undefined {
  const v = optionalString(options, key);
  if (v !== undefined && !valid.includes(v as T))
    throw new CliError(`${flag} "${v}" is not one of ${valid.join(', ')}`);
  return v as T | undefined;
}

/** `--task`, `--max-length`, `--batch-size` as `mor train` and `mor eval` pass them on (absent ones left out). */
export function dataFlags(options: Record<string, unknown>): {
  task?: 'causal-lm' | 'seq-cls';
  maxLength?: number;
  batchSize?: number;
} {
  const task = oneOf(options, 'task', '--task', ['causal-lm', 'seq-cls'] as const);
  const maxLength = optionalPositiveInt(options, 'maxLength', '--max-length');
  const batchSize = optionalPositiveInt(options, 'batchSize', '--batch-size');
  return {
    ...(task !== undefined ? { task } : {}),
    ...(maxLength !== undefined ? { maxLength } : {}),
    ...(batchSize !== undefined ? { batchSize } : {}),
  };
}
