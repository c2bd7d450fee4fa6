import type { LlamaOptions } from '@mor/model-builder';
import { WORDNET_VOCAB_SIZE } from './tokenizer-files.js';

/** The architecture of `models/wordnet-llama` (the training graph adds `withoutKvCache`). */
export const WORDNET_LLAMA: LlamaOptions = {
  hidden: 256,
  layers: 4,
  heads: 4,
  kvHeads: 2,
  intermediate: 688,
  vocab: WORDNET_VOCAB_SIZE,
};
