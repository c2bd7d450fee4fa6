import { ADAPTER_KIND_LABELS, adapterParameterCount, PEFT_TYPES } from '@mor/format';
import { pullAdapter } from '@mor/format/node';
import { jsonOption, type CommandSpec } from '../command.js';
import { formatBytes, formatCount } from '../output.js';
import { hubConnection, hubOptions, withTokenRedacted } from './push.js';

export const pullCommand: CommandSpec = {
  summary:
    'download an adapter from a Hub model repository into a directory (validated before it is written)',
  options: [
    { flags: '--repo <owner/name>', description: 'the model repository', required: true },
    { flags: '--out <dir>', description: 'directory to write the adapter to', required: true },
    ...hubOptions,
    { flags: '--revision <rev>', description: 'branch, tag or commit (default: main)' },
    jsonOption,
  ],
  async run(_args, options, out) {
    const connection = hubConnection(options);
    const repo = options.repo as string;
    const dir = options.out as string;
    out.log(`pulling ${repo}${connection.hubUrl ? ` from ${connection.hubUrl}` : ''}…`);
    const result = await withTokenRedacted(connection.accessToken, () =>
      pullAdapter({ ...connection, repo, out: dir, revision: options.revision as string | undefined }),
    );
    const { adapter } = result;
    const parameters = adapterParameterCount(adapter);
    if (options.json) {
      out.json({
        repo: result.repo,
        revision: result.revision,
        out: result.out,
        adapter_type: PEFT_TYPES[adapter.kind],
        adapted_modules: adapter.layers.size,
        trainable_parameters: parameters,
        files: result.files,
      });
      return;
    }
    const kind = ADAPTER_KIND_LABELS[adapter.kind];
    out.line(`pulled ${result.repo}@${result.revision} → ${result.out}`);
    out.line(`  adapter     ${kind}, ${adapter.layers.size} modules, ${formatCount(parameters)} parameters`);
    for (const f of result.files) out.line(`  file        ${f.path} (${formatBytes(f.size)})`);
  },
};
