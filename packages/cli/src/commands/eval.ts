import { evaluateDataFile } from '@mor/transformers/node';
import { jsonOption, type CommandSpec } from '../command.js';
import { CliError } from '../errors.js';
import {
  adapterOption,
  deviceOption,
  dtypeOption,
  modelOption,
  optionalPositiveInt,
  optionalString,
  requiredString,
} from '../options.js';

export const evalCommand: CommandSpec = {
  summary: 'score a model (with an adapter) on a JSONL file: loss, and accuracy for classification',
  options: [
    modelOption,
    {
      flags: '--data <file.jsonl>',
      description: 'rows to score (the kinds mor train reads)',
      required: true,
    },
    adapterOption,
    { flags: '--task <task>', description: "causal-lm or seq-cls (default from the model's config)" },
    { flags: '--max-length <n>', description: 'truncate rows to n tokens (special tokens kept)' },
    { flags: '--batch-size <n>', description: 'rows per forward pass (default 8)' },
    deviceOption,
    dtypeOption,
    jsonOption,
  ],
  async run(_args, options, out) {
    const task = optionalString(options, 'task');
    if (task !== undefined && task !== 'causal-lm' && task !== 'seq-cls')
      throw new CliError(`--task "${task}" is not one of causal-lm, seq-cls`);
    const maxLength = optionalPositiveInt(options, 'maxLength', '--max-length');
    const batchSize = optionalPositiveInt(options, 'batchSize', '--batch-size');
    const adapter = optionalString(options, 'adapter');
    const device = optionalString(options, 'device');
    const dtype = optionalString(options, 'dtype');
    const m = await evaluateDataFile({
      model: requiredString(options, 'model'),
      data: requiredString(options, 'data'),
      ...(adapter !== undefined ? { adapter } : {}),
      ...(task !== undefined ? { task } : {}),
      ...(maxLength !== undefined ? { maxLength } : {}),
      ...(batchSize !== undefined ? { batchSize } : {}),
      ...(device !== undefined ? { device } : {}),
      ...(dtype !== undefined ? { dtype } : {}),
    });
    const seqCls = m.task === 'seq-cls';
    if (options.json) {
      out.json({
        task: m.task,
        loss: m.loss,
        ...(seqCls ? { accuracy: m.accuracy } : {}),
        rows: m.rows,
        [seqCls ? 'rows_scored' : 'tokens']: m.count,
      });
      return;
    }
    out.line(`loss ${m.loss.toFixed(4)}  (${m.rows} rows, ${m.count} ${seqCls ? 'rows' : 'tokens'} scored)`);
    if (seqCls) out.line(`accuracy ${m.accuracy!.toFixed(4)}`);
  },
};
