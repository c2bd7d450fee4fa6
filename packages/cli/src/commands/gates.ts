import { routerStatistics } from '@mor/trainer/node';
import { jsonOption, type CommandSpec } from '../command.js';
import {
  deviceOption,
  dtypeOption,
  modelOption,
  optionalPositiveInt,
  optionalString,
  requiredString,
} from '../options.js';

const fmt = (g: number[]): string => `[${g.map((v) => v.toFixed(4)).join(', ')}]`;

export const gatesCommand: CommandSpec = {
  summary: 'mean router gate per layer and overall over a data set (the overall mean works as --gate)',
  options: [
    modelOption,
    { flags: '--adapter <dir>', description: 'MoR or MoELoRA adapter directory', required: true },
    {
      flags: '--data <file>',
      description: 'JSONL data file (text, prompt/completion, messages or input_ids rows)',
      required: true,
    },
    {
      flags: '--save-as <name>',
      description: "store the overall mean gate in the adapter's static_gates under this name",
    },
    { flags: '--max-length <n>', description: 'truncate each row to this many tokens' },
    deviceOption,
    dtypeOption,
    jsonOption,
  ],
  async run(_args, options, out) {
    const maxLength = optionalPositiveInt(options, 'maxLength', '--max-length');
    const saveAs = optionalString(options, 'saveAs');
    const device = optionalString(options, 'device');
    const dtype = optionalString(options, 'dtype');
    const stats = await routerStatistics({
      model: requiredString(options, 'model'),
      adapter: requiredString(options, 'adapter'),
      data: requiredString(options, 'data'),
      onProgress: (m) => out.log(m),
      ...(maxLength !== undefined ? { maxLength } : {}),
      ...(saveAs !== undefined ? { saveAs } : {}),
      ...(device !== undefined ? { device } : {}),
      ...(dtype !== undefined ? { dtype } : {}),
    });
    if (options.json) {
      out.json({ ...stats, saved_as: saveAs ?? null });
      return;
    }
    out.line(`mean router gates over ${stats.rows} rows, ${stats.tokens} tokens`);
    for (const [module, g] of Object.entries(stats.layers)) out.line(`  ${module}  ${fmt(g)}`);
    out.line(`overall  ${fmt(stats.overall)}  (usable as --gate)`);
    if (saveAs !== undefined) out.line(`saved as static gate "${saveAs}"`);
  },
};
