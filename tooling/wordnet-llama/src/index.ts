export * from './parse-wordnet.js';
export * from './corpus.js';
export * from './byte-level.js';
export { trainBpe, type BpeModel, type TrainBpeOptions } from './train-bpe.js';
export { BpeEncoder } from './bpe-encoder.js';
export * from './tokenizer-files.js';
export { packRows, packedBatch, lrAt } from './pack.js';
export { WORDNET_LLAMA } from './model-options.js';
export { pretrain, type PretrainOptions, type PretrainResult } from './pretrain.js';
