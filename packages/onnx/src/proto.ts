// The ONNX protobuf types come from `onnx-buf` (ONNX 1.20 schema, proto2 semantics: field presence is kept,
// unknown fields survive a round trip). Re-exported so users of @mor/onnx need not depend on it directly.
export type {
  ModelProto,
  GraphProto,
  NodeProto,
  TensorProto,
  ValueInfoProto,
  AttributeProto,
  StringStringEntryProto,
} from 'onnx-buf';
export { TensorProto_DataType as DataType, TensorProto_DataLocation as DataLocation } from 'onnx-buf';
