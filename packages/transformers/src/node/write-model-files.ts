import { basename, dirname, join } from 'node:path';
import { encodeModel, type EncodeModelOptions, type ModelProto } from '@mor/onnx';
import { writeFilesAtomic } from '@mor/format/node';

/**
 * Writes a model to `path` with its external data files beside it (default name `<model file>_data`), through
 * `@mor/format`'s atomic writer, the one every file this package writes goes through: all files are written in
 * full before any replaces its old copy (a full disk leaves the previous model as it was), then renamed into
 * place data first, the model last, so a model file never points at missing data.
 *
 * @returns the paths written, the model's last.
 * @throws {FileWriteError} naming the file that could not be written and why.
 */
export async function writeModelFiles(
  path: string,
  model: ModelProto,
  options: EncodeModelOptions = {},
): Promise<string[]> {
  const encoded = encodeModel(model, {
    ...options,
    externalDataFile: options.externalDataFile ?? `${basename(path)}_data`,
  });
  const files = [
    ...encoded.externalData.map((f) => ({ path: join(dirname(path), f.location), data: f.chunks })),
    { path, data: encoded.model },
  ];
  await writeFilesAtomic(files);
  return files.map((f) => f.path);
}
