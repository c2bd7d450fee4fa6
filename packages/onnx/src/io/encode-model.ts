import { clearField, create, isFieldSet, toBinary } from '@bufbuild/protobuf';
import {
  ModelProtoSchema,
  StringStringEntryProtoSchema,
  TensorProtoSchema,
  TensorProto_DataLocation,
  type ModelProto,
  type TensorProto,
} from 'onnx-buf';
import { OnnxIoError } from '../errors.js';
import { modelTensors } from './tensor-walk.js';

/** Protobuf messages cannot exceed 2 GiB; keep a margin for the graph structure itself. */
const MAX_INLINE_BYTES = 2 ** 31 - 1 - 64 * 2 ** 20;
/** Tensors at least this large are aligned in external files to this granularity (mmap-friendly, as onnx does). */
const ALIGN_THRESHOLD = 2 ** 20;
const ALLOCATION_GRANULARITY = 65536;

/** Options of {@link encodeModel}. */
export interface EncodeModelOptions {
  /**
   * Tensors whose raw data has at least this many bytes go to external data. Default: none go external,
   * unless the model would pass the 2 GiB protobuf limit, which throws (set a threshold then).
   */
  externalDataThreshold?: number;
  /** Name of the (first) external data file, relative to the model file. Default `model.onnx_data`. */
  externalDataFile?: string;
  /**
   * Start a new file (`<file>_1`, `<file>_2`, …, the transformers.js convention) before one would pass this
   * many bytes. Default: one file.
   */
  maxExternalFileBytes?: number;
}

/** One external data file: its location and its content as a list of chunks (never concatenated). */
export interface ExternalDataFile {
  location: string;
  chunks: Uint8Array[];
  byteLength: number;
}

/** Result of {@link encodeModel}. */
export interface EncodedModel {
  /** The `.onnx` protobuf bytes. */
  model: Uint8Array;
  /** External data files to write beside it (empty when all data is inline). */
  externalData: ExternalDataFile[];
}

interface Saved {
  t: TensorProto;
  rawData: Uint8Array<ArrayBuffer>;
  externalData: TensorProto['externalData'];
  location: TensorProto_DataLocation | undefined;
}

/**
 * Serializes a model, moving large tensors to external data when asked. The model object is left as it was
 * (tensors are swapped only for the duration of the call). Tensors that were external and not loaded by
 * {@link decodeModel} keep their references: their files must stay beside the new model.
 */
export function encodeModel(model: ModelProto, options: EncodeModelOptions = {}): EncodedModel {
  const threshold = options.externalDataThreshold ?? Infinity;
  const base = options.externalDataFile ?? 'model.onnx_data';
  const maxFile = options.maxExternalFileBytes ?? Infinity;
  if (base === '' || /[\\/]/.test(base) || base === '.' || base === '..') {
    throw new OnnxIoError(
      `externalDataFile must be a plain file name beside the model, got ${JSON.stringify(base)}`,
    );
  }
  const files: ExternalDataFile[] = [];
  const saved: Saved[] = [];
  let inlineBytes = 0;
  try {
    for (const t of modelTensors(model)) {
      const n = t.rawData.byteLength;
      if (t.dataLocation === TensorProto_DataLocation.EXTERNAL || n < threshold || n === 0) {
        inlineBytes += n;
        continue;
      }
      const align = n >= ALIGN_THRESHOLD ? ALLOCATION_GRANULARITY : 16;
      let file = files[files.length - 1];
      let offset = file ? Math.ceil(file.byteLength / align) * align : 0;
      if (!file || (offset + n > maxFile && file.byteLength > 0)) {
        file = { location: files.length === 0 ? base : `${base}_${files.length}`, chunks: [], byteLength: 0 };
        files.push(file);
        offset = 0;
      }
      if (offset > file.byteLength) file.chunks.push(new Uint8Array(offset - file.byteLength));
      file.chunks.push(t.rawData);
      file.byteLength = offset + n;
      saved.push({
        t,
        rawData: t.rawData,
        externalData: t.externalData,
        location: isFieldSet(t, TensorProtoSchema.field.dataLocation) ? t.dataLocation : undefined,
      });
      t.rawData = new Uint8Array(0);
      t.externalData = [
        create(StringStringEntryProtoSchema, { key: 'location', value: file.location }),
        create(StringStringEntryProtoSchema, { key: 'offset', value: String(offset) }),
        create(StringStringEntryProtoSchema, { key: 'length', value: String(n) }),
      ];
      t.dataLocation = TensorProto_DataLocation.EXTERNAL;
    }
    if (inlineBytes > MAX_INLINE_BYTES) {
      throw new OnnxIoError(
        `the model holds ${inlineBytes} bytes of inline tensor data, over the 2 GiB protobuf limit: ` +
          'pass `externalDataThreshold` (e.g. 1024) to store weights as external data',
      );
    }
    return { model: toBinary(ModelProtoSchema, model), externalData: files };
  } finally {
    for (const s of saved) {
      s.t.rawData = s.rawData;
      s.t.externalData = s.externalData;
      if (s.location === undefined) clearField(s.t, TensorProtoSchema.field.dataLocation);
      else s.t.dataLocation = s.location;
    }
  }
}

/** Serializes a model with all data inline: the bytes `InferenceSession.create` takes. */
export function encodeModelBytes(model: ModelProto): Uint8Array {
  return encodeModel(model).model;
}
