import { redactToken } from '@mor/format';
import { pushAdapter } from '@mor/format/node';
import { jsonOption, type CommandSpec, type OptionSpec } from '../command.js';
import { CliError } from '../errors.js';
import { formatCount } from '../output.js';

/** `--hub-url` and `--token`, shared by push and pull. */
export const hubOptions: readonly OptionSpec[] = [
  {
    flags: '--hub-url <url>',
    description: 'Hub base URL (default: $HF_ENDPOINT, else https://huggingface.co)',
  },
  {
    flags: '--token <token>',
    description: 'Hub access token (default: $HF_TOKEN, preferred: flags are visible in process lists)',
  },
];

/** The Hub URL and token from the flags or the environment (an empty variable counts as unset). */
export function hubConnection(options: Record<string, unknown>): { hubUrl?: string; accessToken?: string } {
  const hubUrl = (options.hubUrl as string | undefined) || process.env.HF_ENDPOINT || undefined;
  const accessToken = (options.token as string | undefined) || process.env.HF_TOKEN || undefined;
  return { ...(hubUrl && { hubUrl }), ...(accessToken && { accessToken }) };
}

/**
 * Runs `action` so that no error escapes with the token in its message, whatever produced it (the library
 * redacts Hub errors already; this also covers anything else that might quote a request).
 */
export async function withTokenRedacted<T>(token: string | undefined, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (token !== undefined && error instanceof Error && `${error.message}${error.stack}`.includes(token)) {
      throw new CliError(redactToken(error.message, token));
    }
    throw error;
  }
}

export const pushCommand: CommandSpec = {
  summary:
    'publish an adapter directory to a Hub model repository in one commit, with a generated model card',
  options: [
    { flags: '--adapter <dir>', description: 'the adapter directory', required: true },
    {
      flags: '--repo <owner/name>',
      description: 'the model repository (created when missing)',
      required: true,
    },
    ...hubOptions,
    {
      flags: '--private',
      description: 'create the repository as private (an existing one keeps its visibility)',
    },
    { flags: '--revision <branch>', description: 'existing branch to commit to (default: main)' },
    { flags: '--message <title>', description: 'commit title' },
    {
      flags: '--base-model <id>',
      description: "base model's Hub id for the model card, if the adapter records a local path",
    },
    jsonOption,
  ],
  async run(_args, options, out) {
    const connection = hubConnection(options);
    if (connection.accessToken === undefined)
      throw new CliError('no Hub token: pass --token or set HF_TOKEN');
    const dir = options.adapter as string;
    const repo = options.repo as string;
    out.log(`pushing ${dir} to ${repo}${connection.hubUrl ? ` on ${connection.hubUrl}` : ''}…`);
    const result = await withTokenRedacted(connection.accessToken, () =>
      pushAdapter({
        ...connection,
        dir,
        repo,
        // Unset unless asked: the Hub then applies the owner's default visibility to a new repository.
        private: options.private === true ? true : undefined,
        revision: options.revision as string | undefined,
        commitMessage: options.message as string | undefined,
        baseModel: options.baseModel as string | undefined,
      }),
    );
    if (options.json) {
      out.json({
        repo: result.repo,
        url: result.repoUrl,
        revision: result.revision,
        commit: result.commit,
        files: result.files,
        created_repo: result.createdRepo,
        trainable_parameters: result.parameterCount,
      });
      return;
    }
    out.line(`pushed ${dir} → ${result.repo}${result.createdRepo ? ' (new repository)' : ''}`);
    out.line(`  url         ${result.repoUrl}`);
    out.line(`  commit      ${result.commit.oid} on ${result.revision}`);
    out.line(`  files       ${result.files.join(', ')}`);
    out.line(`  parameters  ${formatCount(result.parameterCount)}`);
  },
};
