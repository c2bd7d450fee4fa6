import type { OptionSpec } from './command.js';
import { CliError } from './errors.js';
import { optionalNonNegativeInt, optionalNumber, optionalPositiveInt, optionalString } from './options.js';

/** The adapter-shape flags `mor init` and `mor train` share (docs/cli.md). */
export const adapterShapeOptions: readonly OptionSpec[] = [
  { flags: '--targets <a,b,c>', description: "module names to adapt (default: PEFT's for the model type)" },
  { flags: '--rank <r>', description: 'rank r (default 8; MoELoRA: of each expert)' },
  { flags: '--alpha <a>', description: 'scaling numerator alpha (default 2·r)' },
  { flags: '--experts <n>', description: 'experts N of MoR or MoELoRA (default 4)' },
  { flags: '--top-k <k>', description: 'route through the k largest router logits (default: dense)' },
  { flags: '--router-bias', description: 'give the router a bias' },
  {
    flags: '--seed <s>',
    description: 'seed of the init (and, for train, of data order and dropout; default 0)',
  },
];

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
