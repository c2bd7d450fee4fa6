import { adapterParameterCount } from '@mor/format';
import { initAdapterDir } from '@mor/transformers/node';
import { jsonOption, type CommandSpec, type OptionSpec } from '../command.js';
import { CliError } from '../errors.js';
import { modelOption, optionalPositiveInt, optionalString, requiredString } from '../options.js';

/** The adapter-shape flags `mor init` and `mor train` share (docs/cli.md). */
export const adapterShapeOptions: readonly OptionSpec[] = [
  { flags: '--targets <a,b,c>', description: "module names to adapt (default: PEFT's for the model type)" },
  { flags: '--rank <r>', description: 'rank r (default 8)' },
  { flags: '--alpha <a>', description: 'scaling numerator alpha (default 2·r)' },
  { flags: '--experts <n>', description: 'MoR rank experts N (default 4)' },
  { flags: '--top-k <k>', description: 'route through the k largest router logits (default: dense)' },
  { flags: '--router-bias', description: 'give the router a bias' },
  {
    flags: '--seed <s>',
    description: 'seed of the init (and, for train, of data order and dropout; default 0)',
  },
];

/** A finite number flag; undefined when absent. */
export function optionalNumber(
  options: Record<string, unknown>,
  key: string,
  flag: string,
): number | undefined {
  const v = optionalString(options, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new CliError(`${flag} expects a number, got "${v}"`);
  return n;
}

/** A non-negative integer flag (`--seed 0`); undefined when absent. */
export function optionalNonNegativeInt(
  options: Record<string, unknown>,
  key: string,
  flag: string,
): number | undefined {
  const n = optionalNumber(options, key, flag);
  if (n !== undefined && (!Number.isSafeInteger(n) || n < 0))
    throw new CliError(`${flag} expects an integer ≥ 0, got "${n}"`);
  return n;
}

/** The parsed adapter-shape flags, only those given. */
export function adapterShapeFlags(options: Record<string, unknown>): {
  targets?: string[];
  rank?: number;
  alpha?: number;
  experts?: number;
  topK?: number;
  routerBias?: boolean;
  seed?: number;
} {
  const out: ReturnType<typeof adapterShapeFlags> = {};
  const targets = optionalString(options, 'targets');
  if (targets !== undefined) {
    out.targets = targets
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    if (out.targets.length === 0)
      throw new CliError('--targets expects a comma-separated list of module names');
  }
  const rank = optionalPositiveInt(options, 'rank', '--rank');
  const alpha = optionalNumber(options, 'alpha', '--alpha');
  const experts = optionalPositiveInt(options, 'experts', '--experts');
  const topK = optionalPositiveInt(options, 'topK', '--top-k');
  const seed = optionalNonNegativeInt(options, 'seed', '--seed');
  if (rank !== undefined) out.rank = rank;
  if (alpha !== undefined) out.alpha = alpha;
  if (experts !== undefined) out.experts = experts;
  if (topK !== undefined) out.topK = topK;
  if (options.routerBias === true) out.routerBias = true;
  if (seed !== undefined) out.seed = seed;
  return out;
}

export const initCommand: CommandSpec = {
  summary: 'write a freshly initialised MoR adapter for a model',
  options: [
    modelOption,
    { flags: '--out <dir>', description: 'new adapter directory', required: true },
    ...adapterShapeOptions,
    jsonOption,
  ],
  async run(_args, options, out) {
    const dir = requiredString(options, 'out');
    const adapter = await initAdapterDir({
      model: requiredString(options, 'model'),
      out: dir,
      ...adapterShapeFlags(options),
    });
    if (adapter.kind !== 'mor') throw new CliError('internal: mor init made a non-MoR adapter');
    const c = adapter.config;
    const result = {
      out: dir,
      target_modules: [...c.targets],
      modules: [...adapter.layers.keys()],
      r: c.r,
      lora_alpha: c.alpha,
      num_experts: c.experts,
      top_k: c.topK,
      router_bias: c.routerBias,
      trainable_parameters: adapterParameterCount(adapter),
    };
    if (options.json) {
      out.json(result);
      return;
    }
    out.line(`MoR adapter written to ${dir}`);
    out.line(
      `  ${result.modules.length} modules (${c.targets.join(', ')}), r ${c.r}, alpha ${c.alpha}, ${c.experts} experts`,
    );
    out.line(`  ${result.trainable_parameters.toLocaleString('en-US')} trainable parameters`);
  },
};
