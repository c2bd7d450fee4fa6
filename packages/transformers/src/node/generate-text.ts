import type { PreTrainedModel, PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
import { MorInputError } from '../errors.js';

/** Options of {@link generateText}. */
export interface GenerateTextOptions {
  model: PreTrainedModel;
  tokenizer: PreTrainedTokenizer;
  /** Tokenized with the tokenizer's special tokens (BOS), as transformers' pipelines do. */
  prompt: string;
  /** Default 32. */
  maxNewTokens?: number;
  /** Greedy decoding; otherwise the model's generation_config decides (sampling when it says so). */
  greedy?: boolean;
}

/** The continuation of a prompt. */
export interface GeneratedText {
  /** The new tokens decoded, special tokens skipped. */
  text: string;
  /** The new token ids only (not the prompt). */
  tokenIds: number[];
  /** The prompt's token ids, special tokens included. */
  promptIds: number[];
}

/** Continues `prompt` with `model.generate()` (KV cache and all) and returns the new tokens. */
export async function generateText(options: GenerateTextOptions): Promise<GeneratedText> {
  const { model, tokenizer, prompt } = options;
  const maxNewTokens = options.maxNewTokens ?? 32;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) {
    throw new MorInputError(`max new tokens must be a positive integer, got ${maxNewTokens}`);
  }
  const inputs = tokenizer(prompt) as { input_ids: Tensor; attention_mask: Tensor };
  const promptIds = Array.from(inputs.input_ids.data as ArrayLike<bigint>, Number);
  const output = (await model.generate({
    ...inputs,
    max_new_tokens: maxNewTokens,
    ...(options.greedy ? { do_sample: false } : {}),
  })) as Tensor;
  const tokenIds = Array.from(output.data as ArrayLike<bigint>, Number).slice(promptIds.length);
  const text = tokenizer.decode(tokenIds, { skip_special_tokens: true });
  return { text, tokenIds, promptIds };
}
