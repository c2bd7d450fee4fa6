/// <reference types="node" />
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import type { ModelProto } from 'onnx-buf';
import { OnnxIoError } from '../errors.js';
import { decodeModel } from '../io/decode-model.js';

/**
 * Reads an `.onnx` file and the external data files beside it (`location` keys are resolved relative to the
 * model's folder; a location that climbs out of that folder is refused).
 */
export async function readModelFile(path: string): Promise<ModelProto> {
  const bytes = await readFile(path);
  const dir = dirname(path);
  return decodeModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
    externalData: async (location) => {
      const rel = normalize(location);
      if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) {
        throw new OnnxIoError(
          `external data location ${JSON.stringify(location)} leaves the model folder`,
          path,
        );
      }
      try {
        const data = await readFile(join(dir, rel));
        return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      } catch (e) {
        throw new OnnxIoError(
          `cannot read external data ${location} of ${path}: ${(e as Error).message}`,
          location,
        );
      }
    },
  });
}
