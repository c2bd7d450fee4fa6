/// <reference types="node" />
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ModelProto } from 'onnx-buf';
import { encodeModel, type EncodeModelOptions } from '../io/encode-model.js';

/** Writes chunks to a temporary file in the target's folder, then renames it into place (atomic). */
async function writeAtomic(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  const tmp = join(
    dirname(path),
    `.${basename(path)}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`,
  );
  const fh = await open(tmp, 'w');
  try {
    for (const c of chunks) {
      let done = 0;
      while (done < c.byteLength) done += (await fh.write(c, done, c.byteLength - done)).bytesWritten;
    }
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
}

/**
 * Writes a model to `path`, external data files beside it (default file name `<model file>_data`, e.g.
 * `model.onnx_data`). Each file is written atomically (temporary file + rename); data files go first, so a
 * model file never points at missing data.
 * @returns the paths written.
 */
export async function writeModelFile(
  path: string,
  model: ModelProto,
  options: EncodeModelOptions = {},
): Promise<string[]> {
  const encoded = encodeModel(model, {
    ...options,
    externalDataFile: options.externalDataFile ?? `${basename(path)}_data`,
  });
  const written: string[] = [];
  for (const f of encoded.externalData) {
    const p = join(dirname(path), f.location);
    await writeAtomic(p, f.chunks);
    written.push(p);
  }
  await writeAtomic(path, [encoded.model]);
  written.push(path);
  return written;
}
