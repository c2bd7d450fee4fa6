import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { findLinearLayers } from '@mor/onnx';
import { readModelFile } from '@mor/onnx/node';
import { CliError } from '../errors.js';

/** What `mor inspect` reports about a transformers.js model directory. */
export interface ModelDescription {
  kind: 'model';
  path: string;
  model_type: string | null;
  architectures: string[];
  hidden_size: number | null;
  num_hidden_layers: number | null;
  vocab_size: number | null;
  tokenizer: boolean;
  onnx_files: { file: string; bytes: number; external_data: string[] }[];
  /** Linear layers of `onnx/model.onnx` an adapter can target (module path, graph form, sizes). */
  adaptable_layers: AdaptableLayer[];
}

/** One linear layer as `mor inspect` lists it. */
export interface AdaptableLayer {
  module: string;
  kind: string;
  d_in: number;
  d_out: number;
  /** Quantized weights take an adapter branch but cannot be merged. */
  quantized: boolean;
}

/**
 * Exports made through a wrapper module put an extra scope before every path (`/m/model/layers.0/…`,
 * `/m/lm_head/…`). Adapter `target_modules` use the Hugging Face paths, so a first segment that every layer
 * shares, above more than one distinct child, is dropped (the adapter matcher accepts either form).
 */
function wrapperScope(paths: readonly string[]): string | null {
  const first = new Set(paths.map((p) => p.split('.')[0]));
  const second = new Set(paths.map((p) => p.split('.')[1] ?? ''));
  if (paths.length < 2 || first.size !== 1 || second.size < 2 || second.has('')) return null;
  return [...first][0]!;
}

/** The linear layers of an ONNX file, in graph order ([] when there is no such file). */
async function adaptableLayers(file: string): Promise<AdaptableLayer[]> {
  if (!(await exists(file))) return [];
  try {
    const layers = findLinearLayers(await readModelFile(file));
    const scope = wrapperScope(layers.map((l) => l.modulePath));
    return layers.map((l) => ({
      module: scope === null ? l.modulePath : l.modulePath.slice(scope.length + 1),
      kind: l.kind,
      d_in: l.dIn,
      d_out: l.dOut,
      quantized: l.quantized,
    }));
  } catch (e) {
    throw new CliError(`${file}: cannot read the ONNX model (${(e as Error).message})`);
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function num(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}

/** Reads `config.json` and lists the ONNX files (with their external-data files) of a model directory. */
export async function describeModel(dir: string): Promise<ModelDescription> {
  const configPath = join(dir, 'config.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (e) {
    throw new CliError(`${configPath}: not a readable JSON config (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError(`${configPath}: not a JSON object (a model config is {"model_type": …, …})`);
  }
  const config = parsed as Record<string, unknown>;
  const onnxDir = join(dir, 'onnx');
  const names = (await exists(onnxDir)) ? (await readdir(onnxDir)).sort() : [];
  const onnxFiles = [];
  for (const name of names.filter((n) => n.endsWith('.onnx'))) {
    const externalData = names.filter((n) => n !== name && n.startsWith(name) && /_data(_\d+)?$/.test(n));
    onnxFiles.push({
      file: `onnx/${name}`,
      bytes: (await stat(join(onnxDir, name))).size,
      external_data: externalData,
    });
  }
  return {
    kind: 'model',
    path: dir,
    model_type: typeof config.model_type === 'string' ? config.model_type : null,
    architectures: Array.isArray(config.architectures)
      ? config.architectures.filter((a): a is string => typeof a === 'string')
      : [],
    hidden_size: num(config.hidden_size ?? config.n_embd ?? config.d_model),
    num_hidden_layers: num(config.num_hidden_layers ?? config.n_layer),
    vocab_size: num(config.vocab_size),
    tokenizer: await exists(join(dir, 'tokenizer.json')),
    onnx_files: onnxFiles,
    adaptable_layers: await adaptableLayers(join(onnxDir, 'model.onnx')),
  };
}
