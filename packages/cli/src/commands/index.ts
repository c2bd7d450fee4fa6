import type { CommandSpec } from '../command.js';
import { inspectCommand } from './inspect.js';

/** Every `mor` subcommand, by name (cli.md). */
export const commands = {
  inspect: inspectCommand,
} satisfies Record<string, CommandSpec>;
