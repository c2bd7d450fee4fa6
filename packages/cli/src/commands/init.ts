import { ADAPTER_KIND_LABELS, adapterParameterCount } from '@mor/format';
import { initAdapterDir } from '@mor/trainer/node';
import { adapterShapeFlags, adapterShapeOptions } from '../adapter-shape-options.js';
import { jsonOption, type CommandSpec } from '../command.js';
import { CliError } from '../errors.js';
import { modelOption, oneOf, requiredString } from '../options.js';

export const initCommand: CommandSpec = {
  summary: 'write a freshly initialised MoR (or MoELoRA, or LoRA) adapter for a model',
  options: [
    modelOption,
    { flags: '--out <dir>', description: 'new adapter directory', required: true },
    { flags: '--method <method>', description: 'mor (default), moelora or lora' },
    ...adapterShapeOptions,
    jsonOption,
  ],
  async run(_args, options, out) {
    const dir = requiredString(options, 'out');
    const kind = oneOf(options, 'method', '--method', ['mor', 'moelora', 'lora'] as const) ?? 'mor';
    const adapter = await initAdapterDir({
      model: requiredString(options, 'model'),
      out: dir,
      kind,
      ...adapterShapeFlags(options),
    });
    if (adapter.kind !== kind)
      throw new CliError(`internal: mor init made a ${adapter.kind} adapter, not ${kind}`);
    const routed = adapter.kind === 'lora' ? null : adapter.config;
    const shape = adapter.kind === 'lora' ? adapter : adapter.config;
    const targets = [...shape.targets];
    const result = {
      out: dir,
      method: kind,
      target_modules: targets,
      modules: [...adapter.layers.keys()],
      r: shape.r,
      lora_alpha: shape.alpha,
      num_experts: routed?.experts ?? null,
      top_k: routed?.topK ?? null,
      router_bias: routed?.routerBias ?? null,
      trainable_parameters: adapterParameterCount(adapter),
    };
    if (options.json) {
      out.json(result);
      return;
    }
    out.line(`${ADAPTER_KIND_LABELS[kind]} adapter written to ${dir}`);
    const experts = routed ? `, ${routed.experts} experts` : '';
    out.line(
      `  ${result.modules.length} modules (${targets.join(', ')}), r ${result.r}, alpha ${result.lora_alpha}${experts}`,
    );
    out.line(`  ${result.trainable_parameters.toLocaleString('en-US')} trainable parameters`);
  },
};
