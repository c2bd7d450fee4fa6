import type { CommandSpec } from '../command.js';
import { inspectCommand } from './inspect.js';
import { forwardCommand } from './forward.js';
import { generateCommand } from './generate.js';
import { classifyCommand } from './classify.js';
import { mergeCommand } from './merge.js';
import { exportCommand } from './export.js';
import { gatesCommand } from './gates.js';
import { pullCommand } from './pull.js';
import { pushCommand } from './push.js';
import { initCommand } from './init.js';
import { trainCommand } from './train.js';
import { evalCommand } from './eval.js';

/** Every `mor` subcommand, by name (cli.md). */
export const commands = {
  inspect: inspectCommand,
  forward: forwardCommand,
  generate: generateCommand,
  classify: classifyCommand,
  merge: mergeCommand,
  export: exportCommand,
  gates: gatesCommand,
  push: pushCommand,
  pull: pullCommand,
  init: initCommand,
  train: trainCommand,
  eval: evalCommand,
} satisfies Record<string, CommandSpec>;
