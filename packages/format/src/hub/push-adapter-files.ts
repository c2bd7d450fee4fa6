import { createRepo, HubApiError, uploadFiles } from '@huggingface/hub';
import { adapterParameterCount } from '../adapter/param-count.js';
import { parseAdapter } from '../adapter/parse.js';
import { ADAPTER_CONFIG_FILE, ADAPTER_KIND_LABELS, ADAPTER_WEIGHTS_FILE, joinDir } from '../adapter/types.js';
import { HubError, toHubError, type HubFailure } from './hub-error.js';
import { checkRepoId, repoUrl, resolveConnection, type HubConnectionOptions } from './hub-options.js';
import { MODEL_CARD_FILE, renderModelCard } from './model-card.js';
import { parseTrainingSummary, TRAINING_SUMMARY_FILE } from './training-summary.js';

/** The files of an adapter, as bytes; config and weights are uploaded exactly as given. */
export interface AdapterFiles {
  /** adapter_config.json. */
  config: string | Uint8Array;
  /** adapter_model.safetensors. */
  weights: Uint8Array;
  /** training_summary.json, when the trainer wrote one (see `TrainingSummary`). */
  trainingSummary?: string | Uint8Array | undefined;
}

/** Options of {@link pushAdapterFiles}. */
export interface PushAdapterFilesOptions extends HubConnectionOptions {
  /** `OWNER/NAME` of the model repository; created (with `private`) when it does not exist. */
  repo: string;
  files: AdapterFiles;
  /** Where the files came from (a directory), so validation errors name the user's files. */
  sourceName?: string | undefined;
  /** Visibility of a repository this call creates; an existing repository keeps its own. */
  private?: boolean | undefined;
  /** Branch to commit to; it must exist. @default "main" */
  revision?: string | undefined;
  /** Commit title. @default "Upload MoR adapter (N parameters)" */
  commitMessage?: string | undefined;
  /** README.md to upload instead of the generated model card, or `false` to upload none. */
  modelCard?: string | false | undefined;
  /** Base model Hub id for the card when the config records none, or only a local path. */
  baseModel?: string | undefined;
}

/** What a push did. */
export interface PushAdapterResult {
  repo: string;
  /** The repository's page. */
  repoUrl: string;
  revision: string;
  commit: { oid: string; url: string };
  /** Paths uploaded in the commit. */
  files: string[];
  /** Whether this call created the repository. */
  createdRepo: boolean;
  parameterCount: number;
}

/**
 * Publishes an adapter to a Hub model repository in one commit: adapter_config.json and
 * adapter_model.safetensors (byte for byte), a generated README.md model card, and training_summary.json when
 * given. The adapter is validated first, so nothing is uploaded for a broken adapter. Browser-safe; in Node,
 * `pushAdapter` reads the files from a directory.
 *
 * @throws {AdapterFormatError | SafetensorsError} for an invalid adapter or training summary.
 * @throws {HubError} for a missing or refused token, an unreachable Hub, or a failed commit (token redacted).
 */
export async function pushAdapterFiles(options: PushAdapterFilesOptions): Promise<PushAdapterResult> {
  const repo = checkRepoId(options.repo);
  const connection = resolveConnection(options);
  const { hubUrl, accessToken } = connection;
  if (accessToken === undefined) {
    throw new HubError(`no Hub token: pushing to ${repo} needs an access token with write permission`, {
      repo,
      reason: 'auth',
    });
  }
  const { files, sourceName } = options;
  const configText = typeof files.config === 'string' ? files.config : new TextDecoder().decode(files.config);
  const adapter = parseAdapter(configText, files.weights, { dir: sourceName });
  const summaryText =
    files.trainingSummary === undefined || typeof files.trainingSummary === 'string'
      ? files.trainingSummary
      : new TextDecoder().decode(files.trainingSummary);
  const summary =
    summaryText === undefined
      ? undefined
      : parseTrainingSummary(summaryText, joinDir(sourceName, TRAINING_SUMMARY_FILE));
  const card = options.modelCard ?? renderModelCard(adapter, { repo, summary, baseModel: options.baseModel });
  const parameterCount = adapterParameterCount(adapter);

  const uploads: Array<{ path: string; content: Blob }> = [
    { path: ADAPTER_CONFIG_FILE, content: blob(files.config) },
    { path: ADAPTER_WEIGHTS_FILE, content: blob(files.weights) },
  ];
  if (card !== false) uploads.push({ path: MODEL_CARD_FILE, content: blob(card) });
  if (files.trainingSummary !== undefined)
    uploads.push({ path: TRAINING_SUMMARY_FILE, content: blob(files.trainingSummary) });

  const failure: HubFailure = { repo, accessToken, hubUrl, doing: 'pushing to' };
  const common = { repo, accessToken, hubUrl, ...(connection.fetch && { fetch: connection.fetch }) };
  let createdRepo = true;
  try {
    await createRepo({ ...common, ...(options.private !== undefined && { private: options.private }) });
  } catch (error) {
    // 409: the repository exists already, which is the usual case for a second push.
    if (error instanceof HubApiError && error.statusCode === 409) createdRepo = false;
    else throw toHubError(error, failure);
  }
  const revision = options.revision ?? 'main';
  let output;
  try {
    output = await uploadFiles({
      ...common,
      branch: revision,
      files: uploads,
      commitTitle:
        options.commitMessage ??
        `Upload ${ADAPTER_KIND_LABELS[adapter.kind]} adapter (${parameterCount.toLocaleString('en-US')} parameters)`,
      commitDescription: 'Pushed with `mor push` (@mor/format).',
    });
  } catch (error) {
    throw toHubError(error, failure);
  }
  if (output === undefined)
    throw new HubError(`the Hub returned no commit for ${repo}`, { repo, reason: 'hub' });
  return {
    repo,
    repoUrl: repoUrl(hubUrl, repo),
    revision,
    commit: { oid: output.commit.oid, url: output.commit.url },
    files: uploads.map((u) => u.path),
    createdRepo,
    parameterCount,
  };
}

/** A Blob of the bytes (copied: a Blob must not alias a buffer the caller may reuse). */
function blob(content: string | Uint8Array): Blob {
  return new Blob([typeof content === 'string' ? content : content.slice()]);
}
