import { classifyText, loadModel } from '@mor/transformers/node';
import { jsonOption, type CommandSpec } from '../command.js';
import { CliError } from '../errors.js';
import {
  adapterOption,
  deviceOption,
  dtypeOption,
  gateOption,
  loadFlags,
  modelOption,
  requiredString,
} from '../options.js';

export const classifyCommand: CommandSpec = {
  summary: 'classify a text with a sequence-classification model and an adapter',
  options: [
    modelOption,
    { flags: '--text <text>', description: 'the text to classify', required: true },
    adapterOption,
    gateOption,
    deviceOption,
    dtypeOption,
    jsonOption,
  ],
  async run(_args, options, out) {
    const loaded = await loadModel({ model: requiredString(options, 'model'), ...loadFlags(options) });
    try {
      if (loaded.task !== 'seq-cls') throw new CliError('classify needs a sequence-classification model');
      const result = await classifyText({
        model: loaded.model,
        tokenizer: loaded.tokenizer!,
        config: loaded.config,
        text: requiredString(options, 'text'),
      });
      if (options.json) {
        out.json(result);
        return;
      }
      out.line(`${result.label}  (${result.scores[result.label]!.toFixed(4)})`);
      for (const [label, score] of Object.entries(result.scores)) out.line(`  ${label}  ${score.toFixed(4)}`);
    } finally {
      await loaded.model.dispose();
    }
  },
};
