import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '@mor/format/node';
import { forwardLogits } from '@mor/transformers';
import { loadModel } from '@mor/transformers/node';
import { jsonOption, type CommandSpec } from '../command.js';
import { readTokenIdsFile } from '../io/token-ids-file.js';
import {
  adapterOption,
  deviceOption,
  dtypeOption,
  gateOption,
  loadFlags,
  modelOption,
  requiredString,
} from '../options.js';

export const forwardCommand: CommandSpec = {
  summary: 'write the logits of token id rows (attention mask all ones) as {"shape": [...], "data": [...]}',
  options: [
    modelOption,
    {
      flags: '--input-ids <file>',
      description: 'JSON file of token ids: [[id, …], …], equal lengths',
      required: true,
    },
    { flags: '--out <file>', description: 'where to write the logits JSON', required: true },
    adapterOption,
    gateOption,
    deviceOption,
    dtypeOption,
    jsonOption,
  ],
  async run(_args, options, out) {
    const ids = await readTokenIdsFile(requiredString(options, 'inputIds'));
    const file = requiredString(options, 'out');
    const { model } = await loadModel({
      model: requiredString(options, 'model'),
      ...loadFlags(options),
      tokenizer: false,
    });
    try {
      const { shape, data } = await forwardLogits(model, ids);
      await mkdir(dirname(file), { recursive: true }); // `--out a/b/logits.json` with a/b missing
      await writeFileAtomic(file, `${JSON.stringify({ shape, data: Array.from(data) })}\n`);
      if (options.json) out.json({ out: file, shape });
      else out.line(`wrote logits [${shape.join(', ')}] to ${file}`);
    } finally {
      await model.dispose();
    }
  },
};
