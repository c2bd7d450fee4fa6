import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuiltModel } from './types.js';

/** Writes `path` through a temp file and a rename, so a reader never sees half a file. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/**
 * Write a transformers.js model directory: `config.json`, `generation_config.json` (decoders), `tokenizer.json`,
 * `tokenizer_config.json` and `onnx/model.onnx` (fp32, weights inline). Returns `dir`.
 */
export async function writeModelDir(dir: string, built: BuiltModel): Promise<string> {
  await mkdir(join(dir, 'onnx'), { recursive: true });
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  await writeAtomic(join(dir, 'config.json'), json(built.config));
  if (built.generationConfig)
    await writeAtomic(join(dir, 'generation_config.json'), json(built.generationConfig));
  await writeAtomic(join(dir, 'tokenizer.json'), json(built.tokenizer));
  await writeAtomic(join(dir, 'tokenizer_config.json'), json(built.tokenizerConfig));
  await writeAtomic(join(dir, 'onnx', 'model.onnx'), built.onnx);
  return dir;
}
