import { exportPeftLora } from '@mor/format';
import { saveAdapter } from '@mor/format/node';
import { loadAdapterDir } from '@mor/engine/node';
import { resolveGate } from '@mor/transformers';
import { jsonOption, type CommandSpec } from '../command.js';
import { CliError } from '../errors.js';
import { optionalString, requiredString } from '../options.js';

/** The formats `mor export --to` writes. */
const TARGETS = ['peft-lora'] as const;

export const exportCommand: CommandSpec = {
  summary: 'convert a MoR adapter under a fixed gate into the exact rank-r PEFT LoRA it equals',
  options: [
    { flags: '--adapter <dir>', description: 'MoR adapter directory', required: true },
    { flags: '--to <format>', description: `target format: ${TARGETS.join(', ')}`, required: true },
    { flags: '--out <dir>', description: 'the adapter directory to write', required: true },
    {
      flags: '--gate <spec>',
      description: 'fixed gate: uniform, a JSON array of N numbers, or a static_gates name (required)',
    },
    jsonOption,
  ],
  async run(_args, options, out) {
    const to = requiredString(options, 'to');
    if (!(TARGETS as readonly string[]).includes(to)) {
      throw new CliError(`unknown export format "${to}": expected one of ${TARGETS.join(', ')}`);
    }
    const dir = requiredString(options, 'adapter');
    const adapter = await loadAdapterDir(dir);
    if (adapter.kind === 'lora')
      throw new CliError(`${dir} is already a LoRA adapter; only MoR adapters are exported`);
    if (adapter.kind === 'moelora') {
      // N independent experts mixed per token: no single rank-r LoRA equals it (only a MoR under a fixed gate is one).
      throw new CliError(
        `${dir} is a MoELoRA adapter: it cannot be exported as one LoRA (its router mixes the experts per token); only MoR adapters are exported`,
      );
    }
    const spec = optionalString(options, 'gate');
    if (spec === undefined) {
      throw new CliError(
        `exporting a MoR adapter needs --gate (uniform, a JSON array of ${adapter.config.experts} numbers, or a static_gates name)`,
      );
    }
    const gate = resolveGate(spec, adapter.config.experts, adapter.staticGates);
    const lora = exportPeftLora(adapter, gate);
    const target = requiredString(options, 'out');
    await saveAdapter(target, lora);
    if (options.json)
      out.json({
        out: target,
        peft_type: 'LORA',
        r: lora.r,
        lora_alpha: lora.alpha,
        gate,
        modules: [...lora.layers.keys()],
      });
    else
      out.line(
        `wrote PEFT LoRA (r ${lora.r}, ${lora.layers.size} modules, gate [${gate.join(', ')}]) to ${target}`,
      );
  },
};
