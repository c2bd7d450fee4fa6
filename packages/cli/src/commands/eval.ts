import { evaluateDataFile } from '@mor/trainer/node';
import { jsonOption, type CommandSpec } from '../command.js';
import {
  adapterOption,
  batchSizeOption,
  dataFlags,
  deviceOption,
  dtypeOption,
  maxLengthOption,
  loadFlags,
  modelOption,
  requiredString,
  taskOption,
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
    taskOption,
    maxLengthOption,
    batchSizeOption('rows per forward pass'),
    deviceOption,
    dtypeOption,
    jsonOption,
  ],
  async run(_args, options, out) {
    const m = await evaluateDataFile({
      model: requiredString(options, 'model'),
      data: requiredString(options, 'data'),
      ...loadFlags(options),
      ...dataFlags(options),
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
