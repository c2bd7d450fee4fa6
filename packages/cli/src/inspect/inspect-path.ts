import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import { describeAdapter, type AdapterDescription } from './describe-adapter.js';
import { describeModel, type ModelDescription } from './describe-model.js';

export type PathDescription = AdapterDescription | ModelDescription;

/** Decides whether `path` is an adapter or a model directory and describes it. */
export async function inspectPath(path: string): Promise<PathDescription> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new CliError(`${path}: no such file or directory`);
  if (!info.isDirectory()) throw new CliError(`${path}: expected an adapter or model directory`);
  if (await stat(join(path, 'adapter_config.json')).catch(() => null)) return describeAdapter(path);
  if (await stat(join(path, 'config.json')).catch(() => null)) return describeModel(path);
  throw new CliError(`${path}: neither an adapter (adapter_config.json) nor a model directory (config.json)`);
}
