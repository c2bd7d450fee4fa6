import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.js';
import { processOutput, type Output } from './output.js';

/** `mor --version`: the version of the @mor/cli package this is (dist/main.js sits one folder below it). */
const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Turns any thrown value into the one line the user sees. Stack traces only with MOR_DEBUG=1. */
function errorLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return `error: ${message.split('\n')[0]}`;
}

function buildProgram(out: Output): Command {
  const program = new Command('mor')
    .description('Train, apply, convert and share MoR (Mixture of Ranks) adapters for transformers.js models')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // Keep commander's own errors to one line: "error: unknown command 'x' (Did you mean y?)".
      outputError: (s, write) => write(`${s.trimEnd().replace(/\n+/g, ' ')}\n`),
    })
    .showSuggestionAfterError();
  for (const [name, spec] of Object.entries(commands)) {
    const cmd = program
      .command(name)
      .description(spec.summary)
      .exitOverride()
      .configureOutput(program.configureOutput());
    if (spec.args) cmd.arguments(spec.args);
    for (const o of spec.options) {
      if (o.required) cmd.requiredOption(o.flags, o.description, o.defaultValue as string | undefined);
      else cmd.option(o.flags, o.description, o.defaultValue as string | undefined);
    }
    cmd.action(async (...params: unknown[]) => {
      const command = params[params.length - 1] as Command;
      await spec.run(command.args, command.opts(), out);
    });
  }
  return program;
}

/** Runs `mor` with `argv` (without the node and script paths). Returns the exit status. */
export async function main(argv: string[], out: Output = processOutput): Promise<number> {
  const program = buildProgram(out);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has already printed its own one-line message (or the help/version text).
      return e.exitCode;
    }
    if (process.env.MOR_DEBUG === '1' && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.stderr.write(`${errorLine(e)}\n`);
    return 1;
  }
}
