import { generateText, loadModel } from '@mor/transformers/node';
import { jsonOption, type CommandSpec } from '../command.js';
import { CliError } from '../errors.js';
import {
  adapterOption,
  deviceOption,
  dtypeOption,
  gateOption,
  loadFlags,
  modelOption,
  optionalPositiveInt,
  requiredString,
} from '../options.js';

export const generateCommand: CommandSpec = {
  summary: 'continue a prompt (tokenized with the special tokens, e.g. BOS) with the model and an adapter',
  options: [
    modelOption,
    { flags: '--prompt <text>', description: 'the text to continue', required: true },
    adapterOption,
    { flags: '--max-new-tokens <k>', description: 'how many tokens to generate (default 32)' },
    { flags: '--greedy', description: "greedy decoding (default: the model's generation_config)" },
    gateOption,
    deviceOption,
    dtypeOption,
    jsonOption,
  ],
  async run(_args, options, out) {
    const maxNewTokens = optionalPositiveInt(options, 'maxNewTokens', '--max-new-tokens');
    const loaded = await loadModel({ model: requiredString(options, 'model'), ...loadFlags(options) });
    try {
      if (loaded.task !== 'causal-lm') throw new CliError('generate needs a causal language model');
      const result = await generateText({
        model: loaded.model,
        tokenizer: loaded.tokenizer!,
        prompt: requiredString(options, 'prompt'),
        greedy: options.greedy === true,
        ...(maxNewTokens !== undefined ? { maxNewTokens } : {}),
      });
      if (options.json) out.json({ text: result.text, token_ids: result.tokenIds });
      else out.line(result.text);
    } finally {
      await loaded.model.dispose();
    }
  },
};
