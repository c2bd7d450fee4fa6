import { mergeAdapterIntoModelDir } from '@mor/transformers/node';
import { jsonOption, type CommandSpec } from '../command.js';
import { gateOption, modelOption, optionalString, requiredString } from '../options.js';

export const mergeCommand: CommandSpec = {
  summary:
    'write a complete model directory with the adapter merged into the weights (MoR needs --gate; quantized weights keep their kernels and get the adapter as a folded branch)',
  options: [
    { ...modelOption, description: 'local transformers.js model directory' },
    { flags: '--adapter <dir>', description: 'MoR or PEFT LoRA adapter directory', required: true },
    { flags: '--out <dir>', description: 'the model directory to write', required: true },
    gateOption,
    {
      flags: '--dtype <dtype>',
      description: 'merge only the ONNX file for this transformers.js dtype (default: every onnx/*.onnx)',
    },
    { flags: '--force', description: 'replace --out if it exists and is not empty' },
    jsonOption,
  ],
  async run(_args, options, out) {
    const gate = optionalString(options, 'gate');
    const dtype = optionalString(options, 'dtype');
    const result = await mergeAdapterIntoModelDir({
      model: requiredString(options, 'model'),
      adapter: requiredString(options, 'adapter'),
      out: requiredString(options, 'out'),
      overwrite: options.force === true,
      onProgress: (m) => out.log(m),
      ...(gate !== undefined ? { gate } : {}),
      ...(dtype !== undefined ? { dtype } : {}),
    });
    if (options.json) {
      out.json(result);
      return;
    }
    for (const f of result.files) {
      // Quantized weights are not re-quantized: the adapter goes in beside them as a constant float32 branch.
      const beside = f.branched.length
        ? ` (${f.branched.length} with quantized weights: kept quantized, the adapter folded in beside them as a float32 branch)`
        : '';
      out.line(`merged ${f.modules.length} modules into ${f.file}${beside}`);
    }
    out.line(`wrote ${result.out}`);
  },
};
