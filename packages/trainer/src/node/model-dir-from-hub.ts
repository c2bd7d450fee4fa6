import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HubError } from '@mor/format';
import { PULL_MANIFEST_FILE, pullRepoFiles } from '@mor/format/node';
import { MorInputError } from '@mor/engine';
import { notHereNorOnHub } from '@mor/engine/node';
import { DTYPE_SUFFIXES } from '@mor/transformers/node';

/** Files of a transformers.js model repository that training needs besides the ONNX graph, when present. */
const SIDE_FILES = new Set([
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
]);
/** The graph training differentiates for a transformers.js dtype (`onnx/model_q4.onnx` for q4), and its data files. */
const trainingGraph = (dtype = 'fp32') => `onnx/model${DTYPE_SUFFIXES[dtype] ?? ''}.onnx`;
const isGraphData = (graph: string, path: string) =>
  path.startsWith(`${graph}_data`) && /^(_\d+)?$/.test(path.slice(graph.length + 5));

/** Where models pulled by id are kept: `$MOR_CACHE/models`, else `~/.cache/mor/models`. */
function modelCacheDir(repo: string, revision: string): string {
  const root = process.env['MOR_CACHE']
    ? join(process.env['MOR_CACHE'], 'models')
    : join(homedir(), '.cache', 'mor', 'models');
  const folder = revision.replace(/[^\w.-]/g, '_');
  // `@..` (or `@.`) would name a folder outside the model's cache folder.
  if (/^\.*$/.test(folder))
    throw new MorInputError(`model "${repo}@${revision}": "${revision}" is not a revision name`);
  return join(root, repo.replace('/', '--'), folder);
}

function selectTrainingFiles(repo: string, paths: string[], dtype: string | undefined): string[] {
  const graph = trainingGraph(dtype);
  for (const required of ['config.json', graph]) {
    if (!paths.includes(required))
      throw new MorInputError(
        `${repo} has no ${required}: training needs a transformers.js model repository with the ${dtype ?? 'fp32'} graph`,
      );
  }
  return paths.filter((p) => SIDE_FILES.has(p) || p === graph || isGraphData(graph, p));
}

/**
 * A local directory holding what training needs of the Hub model `id` (`owner/name`, optionally
 * `owner/name@revision`): config, tokenizer files and the graph of `dtype` (`onnx/model.onnx` for fp32, the default) with its external data, pulled into the
 * cache (`$MOR_CACHE/models`, else `~/.cache/mor/models`; `HF_ENDPOINT`, `HF_TOKEN`). Files a previous pull
 * fetched with the same content are not downloaded again; when the Hub cannot be reached, an earlier complete
 * pull of the same revision serves (offline use).
 */
export async function modelDirFromHub(id: string, dtype?: string): Promise<string> {
  const [repo, revision = 'main'] = id.split('@') as [string, string | undefined];
  const out = modelCacheDir(repo, revision);
  const token = process.env['HF_TOKEN'];
  try {
    await pullRepoFiles({
      repo,
      revision,
      out,
      select: (paths) => selectTrainingFiles(repo, paths, dtype),
      ...(process.env['HF_ENDPOINT'] ? { hubUrl: process.env['HF_ENDPOINT'] } : {}),
      ...(token ? { accessToken: token } : {}),
    });
    return out;
  } catch (error) {
    if (error instanceof MorInputError) throw error;
    // Offline use: when the Hub cannot be reached, an earlier complete pull serves (the manifest is written after
    // the last file). Any other failure (a download that does not match its listing, a refused listing, a token
    // the Hub rejects) is said, not papered over with the old copy.
    const unreachable = error instanceof HubError && error.reason === 'network';
    if (unreachable && (await stat(join(out, PULL_MANIFEST_FILE)).catch(() => null))) return out;
    throw notHereNorOnHub('model', id, error);
  }
}
