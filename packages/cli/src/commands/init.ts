import { adapterParameterCount } from '@mor/format';
import { initAdapterDir } from '@mor/trainer/node';
import { adapterShapeFlags, adapterShapeOptions } from '../adapter-shape-options.js';
import { jsonOption, type CommandSpec } from '../command.js';
import { CliError } from '../errors.js';
import { modelOption, requiredString } from '../options.js';

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
