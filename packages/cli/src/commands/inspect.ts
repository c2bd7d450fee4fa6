import { ADAPTER_KIND_LABELS, PEFT_TYPES } from '@mor/format';
import { jsonOption, type CommandSpec } from '../command.js';
import { inspectPath, type PathDescription } from '../inspect/inspect-path.js';
import { formatBytes, formatCount, type Output } from '../output.js';

/** `MOELORA` → `MoELoRA`: the label of the kind whose peft_type it is. */
const typeLabel = (peftType: string) =>
  Object.entries(PEFT_TYPES)
    .filter(([, t]) => t === peftType)
    .map(([kind]) => ADAPTER_KIND_LABELS[kind as keyof typeof PEFT_TYPES])[0] ?? peftType;

function printHuman(d: PathDescription, out: Output): void {
  if (d.kind === 'adapter') {
    out.line(`${typeLabel(d.adapter_type)} adapter  ${d.path}`);
    out.line(`  base model      ${d.base_model ?? '(not recorded)'}`);
    out.line(`  task            ${d.task_type ?? '(not recorded)'}`);
    const each = d.adapter_type === 'MOELORA' ? ' per expert' : '';
    out.line(`  rank            r=${d.r}${each}, alpha=${d.lora_alpha} (scaling ${d.scaling})`);
    if (d.adapter_type !== 'LORA') {
      out.line(
        `  experts         ${d.num_experts}, ${d.top_k === null ? 'dense routing' : `top-${d.top_k} routing`}${d.router_bias ? ', router bias' : ''}`,
      );
      if (d.static_gates.length) out.line(`  static gates    ${d.static_gates.join(', ')}`);
    }
    out.line(`  targets         ${d.target_modules.join(', ')}`);
    out.line(`  dtype           ${d.dtype}`);
    out.line(`  modules         ${d.adapted_modules}`);
    out.line(`  parameters      ${formatCount(d.trainable_parameters)}`);
    for (const m of d.modules)
      out.line(`    ${m.module}  [${m.d_in} → ${m.d_out}]  ${formatCount(m.parameters)}`);
    return;
  }
  out.line(`model  ${d.path}`);
  out.line(
    `  type            ${d.model_type ?? '?'} (${d.architectures.join(', ') || 'no architectures listed'})`,
  );
  out.line(
    `  hidden size     ${d.hidden_size ?? '?'}, layers ${d.num_hidden_layers ?? '?'}, vocab ${d.vocab_size ?? '?'}`,
  );
  out.line(`  tokenizer       ${d.tokenizer ? 'tokenizer.json' : 'none'}`);
  if (d.onnx_files.length === 0) out.line('  onnx            none (no onnx/*.onnx)');
  for (const f of d.onnx_files) {
    const ext = f.external_data.length ? ` + ${f.external_data.join(', ')}` : '';
    out.line(`  onnx            ${f.file} (${formatBytes(f.bytes)})${ext}`);
  }
  if (d.adaptable_layers.length > 0)
    out.line(`  adaptable layers (onnx/model.onnx): ${d.adaptable_layers.length}`);
  for (const l of d.adaptable_layers) {
    const q = l.quantized ? '  quantized' : '';
    out.line(`    ${l.module}  ${l.kind}  [${l.d_in} → ${l.d_out}]${q}`);
  }
}

export const inspectCommand: CommandSpec = {
  summary: 'describe an adapter or model directory: type, targets, shapes, parameter count, base model',
  args: '<path>',
  options: [jsonOption],
  async run([path], options, out) {
    const description = await inspectPath(path!);
    if (options.json) out.json(description);
    else printHuman(description, out);
  },
};
