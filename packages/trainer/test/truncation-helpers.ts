export type { PreTrainedTokenizer as PreTrainedTokenizerLike } from '@huggingface/transformers';
export { encodeParts, encodeRows, joinTruncated, parseJsonlRows } from '../src/index.js';
