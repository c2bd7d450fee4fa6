export { recogniseRow, type ChatMessage, type DataRow, type DataRowKind } from './row-kinds.js';
export { parseJsonlRows } from './parse-jsonl.js';
export { encodeParts, contentBudget, joinTruncated, type EncodedParts } from './special-tokens.js';
export { encodeMessages, IGNORE_LABEL } from './encode-messages.js';
export {
  encodeRows,
  learnableTokens,
  type Example,
  type EncodeRowsOptions,
  type TrainTask,
} from './encode-rows.js';
export { collateBatch, type CollateOptions } from './collate.js';
export { DataOrder, shuffledIndices, type DataOrderOptions, type DataPosition } from './data-order.js';
