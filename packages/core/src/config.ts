import { MorConfigError } from './errors.js';
import { jsonPreview } from './json-preview.js';

/** How the experts are mixed (mor-spec.md §1, "Routing modes"). */
export type RoutingMode = 'dense' | 'top-k' | 'static';

/** A validated MoR adapter configuration. Field names are ours; `@mor/format` maps them to the file keys. */
export interface MorConfig {
  /** Shared rank r ≥ 1. */
  readonly r: number;
  /** Scaling numerator: the branch is scaled by `alpha / r`. */
  readonly alpha: number;
  /** Number of rank experts N ≥ 1. */
  readonly experts: number;
  /** `null` = dense softmax routing; else softmax over the k largest router logits (1 ≤ k ≤ N). */
  readonly topK: number | null;
  /** Whether the router has a bias `b_g`. */
  readonly routerBias: boolean;
  /** Dropout on the adapter input (training only), 0 ≤ p < 1. */
  readonly dropout: number;
  /** Module-name suffixes that get an adapter, e.g. `["gate_proj", "up_proj"]`. */
  readonly targets: readonly string[];
  /** Coefficient of the load-balancing auxiliary loss (default 0). */
  readonly routerAuxLossCoef: number;
}

/** Input to {@link validateMorConfig}: everything but `r`, `alpha`, `experts` and `targets` has a default. */
export interface MorConfigInput {
  r: unknown;
  alpha?: unknown;
  experts: unknown;
  topK?: unknown;
  routerBias?: unknown;
  dropout?: unknown;
  targets: unknown;
  routerAuxLossCoef?: unknown;
}

/** Defaults used by `mor init` when the user gives nothing. */
export const DEFAULT_MOR_CONFIG = {
  r: 8,
  alpha: 16,
  experts: 4,
  topK: null,
  routerBias: false,
  dropout: 0,
  routerAuxLossCoef: 0,
} as const;

function positiveInt(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new MorConfigError(field, `expected an integer ≥ 1, got ${jsonPreview(v)}`);
  }
  return v;
}

function finiteNumber(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new MorConfigError(field, `expected a finite number, got ${jsonPreview(v)}`);
  }
  return v;
}

/**
 * Checks every field of a MoR configuration and fills in defaults.
 * Throws {@link MorConfigError} naming the first bad field.
 */
export function validateMorConfig(input: MorConfigInput): MorConfig {
  const r = positiveInt('r', input.r);
  const experts = positiveInt('experts', input.experts);
  const alpha = input.alpha === undefined ? 2 * r : finiteNumber('alpha', input.alpha);
  if (alpha === 0) throw new MorConfigError('alpha', 'must not be 0 (the adapter would do nothing)');
  let topK: number | null = null;
  if (input.topK !== undefined && input.topK !== null) {
    topK = positiveInt('topK', input.topK);
    if (topK > experts)
      throw new MorConfigError('topK', `${topK} is larger than the number of experts (${experts})`);
  }
  const routerBias = input.routerBias ?? false;
  if (typeof routerBias !== 'boolean') {
    throw new MorConfigError('routerBias', `expected true or false, got ${jsonPreview(routerBias)}`);
  }
  const dropout = input.dropout === undefined ? 0 : finiteNumber('dropout', input.dropout);
  if (dropout < 0 || dropout >= 1) throw new MorConfigError('dropout', `expected 0 ≤ p < 1, got ${dropout}`);
  const routerAuxLossCoef =
    input.routerAuxLossCoef === undefined ? 0 : finiteNumber('routerAuxLossCoef', input.routerAuxLossCoef);
  if (routerAuxLossCoef < 0)
    throw new MorConfigError('routerAuxLossCoef', `must be ≥ 0, got ${routerAuxLossCoef}`);
  const targets = input.targets;
  if (!Array.isArray(targets) || targets.length === 0) {
    throw new MorConfigError('targets', 'expected a non-empty list of module names');
  }
  for (const t of targets) {
    if (typeof t !== 'string' || t.trim() === '') {
      throw new MorConfigError('targets', `every target must be a non-empty string, got ${jsonPreview(t)}`);
    }
  }
  return {
    r,
    alpha,
    experts,
    topK,
    routerBias,
    dropout,
    targets: [...(targets as string[])],
    routerAuxLossCoef,
  };
}

/** The scaling `alpha / r` applied to every branch output. */
export function morScaling(config: Pick<MorConfig, 'alpha' | 'r'>): number {
  return config.alpha / config.r;
}

/** The scaling of a plain (PEFT) LoRA: `alpha / r`, or `alpha / √r` with rsLoRA. */
export function loraScaling(config: { alpha: number; r: number; useRslora?: boolean }): number {
  return config.alpha / (config.useRslora ? Math.sqrt(config.r) : config.r);
}
