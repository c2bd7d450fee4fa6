import { clearField, fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProtoSchema, TensorProto_DataLocation, type ModelProto } from 'onnx-buf';
import { OnnxIoError } from '../errors.js';
import { externalDataInfo, modelTensors } from './tensor-walk.js';

/** Options of {@link decodeModel}. */
export interface DecodeModelOptions {
  /**
   * Returns the whole content of an external-data file, given its `location` (relative to the model file).
   * Called once per distinct location. Without it, external tensors stay external references (the graph can
   * still be rewritten and re-encoded; reading their values fails with a clear error).
   */
  externalData?: (location: string) => Uint8Array | Promise<Uint8Array>;
}

/**
 * Parses ONNX model bytes. Tensor `raw_data` stays a view into `bytes` (no copy), so keep `bytes` alive and
 * unmodified while the model is in use. External tensors are loaded through `options.externalData` as views
 * into the file contents and marked inline (`data_location` DEFAULT), so {@link encodeModel} decides afresh
 * where they go.
 */
export async function decodeModel(bytes: Uint8Array, options: DecodeModelOptions = {}): Promise<ModelProto> {
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch (e) {
    throw new OnnxIoError(`not a valid ONNX model: ${(e as Error).message}`);
  }
  const load = options.externalData;
  if (!load) return model;
  const files = new Map<string, Promise<Uint8Array>>();
  for (const t of modelTensors(model)) {
    if (t.dataLocation !== TensorProto_DataLocation.EXTERNAL) continue;
    const info = externalDataInfo(t);
    const location = info['location'];
    if (location === undefined) throw new OnnxIoError('external tensor has no `location` key', t.name);
    let file = files.get(location);
    if (!file) {
      file = Promise.resolve(load(location));
      files.set(location, file);
    }
    const data = await file;
    const offset = Number(info['offset'] ?? 0);
    const length = info['length'] === undefined ? data.byteLength - offset : Number(info['length']);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new OnnxIoError(`bad external data offset/length (${info['offset']}, ${info['length']})`, t.name);
    }
    if (offset + length > data.byteLength) {
      throw new OnnxIoError(
        `external data runs past the end of ${location} (offset ${offset} + length ${length} > ${data.byteLength})`,
        t.name,
      );
    }
    t.rawData = data.subarray(offset, offset + length) as Uint8Array<ArrayBuffer>;
    t.externalData = [];
    clearField(t, TensorProtoSchema.field.dataLocation);
  }
  return model;
}
