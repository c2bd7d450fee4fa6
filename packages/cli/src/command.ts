import type { Output } from './output.js';

/** One option of a command, declared once: the table drives both parsing and `--help`. */
export interface OptionSpec {
  /** Commander flags, e.g. `--max-new-tokens <n>` or `--json`. */
  readonly flags: string;
  readonly description: string;
  readonly required?: boolean;
  readonly defaultValue?: string | boolean;
}

/** A `mor` subcommand: a thin call of one library function. */
export interface CommandSpec {
  readonly summary: string;
  /** Positional arguments in commander syntax, e.g. `<path>`. */
  readonly args?: string;
  readonly options: readonly OptionSpec[];
  run(args: string[], options: Record<string, unknown>, out: Output): Promise<void>;
}

export const jsonOption: OptionSpec = { flags: '--json', description: 'print one JSON document on stdout' };
