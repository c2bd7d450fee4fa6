import { Tensor } from '@huggingface/transformers';
import type { LoadedModel } from './load-model.js';
import { tokenLabel } from './token-label.js';

/** What one greedy generation produced. */
export interface GenerationResult {
  promptIds: number[];
  newIds: number[];
  /** The prompt followed by the continuation, decoded without special tokens. */
  text: string;
  /** The continuation alone. */
  continuation: string;
  /** Each token (prompt, then new) decoded on its own, for the token chips and heat-map rows. */
  tokenTexts: string[];
  elapsedMs: number;
}

/** Options of {@link generateGreedy}. */
export interface GenerateOptions {
  prompt: string;
  maxNewTokens: number;
}

/** Prompt token ids with the tokenizer's special tokens (BOS for the Llama fixtures), as the goldens were made. */
export function encodePrompt(loaded: LoadedModel, prompt: string): number[] {
  return loaded.tokenizer.encode(prompt, { add_special_tokens: true });
}

function int64Row(ids: number[]): Tensor {
  return new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
}

/**
 * Greedy decoding (`do_sample: false`) of up to `maxNewTokens` tokens through transformers.js' own `generate()`,
 * KV cache included, so whatever adapter is attached to the model's session takes part in every step.
 */
export async function generateGreedy(
  loaded: LoadedModel,
  options: GenerateOptions,
): Promise<GenerationResult> {
  const promptIds = encodePrompt(loaded, options.prompt);
  if (promptIds.length === 0) throw new Error('the prompt encodes to no tokens');
  const started = performance.now();
  const output = (await loaded.model.generate({
    input_ids: int64Row(promptIds),
    attention_mask: new Tensor('int64', new BigInt64Array(promptIds.length).fill(1n), [1, promptIds.length]),
    max_new_tokens: options.maxNewTokens,
    do_sample: false,
  })) as Tensor;
  const elapsedMs = performance.now() - started;
  const all = Array.from(output.data as BigInt64Array, Number);
  const newIds = all.slice(promptIds.length);
  const { tokenizer } = loaded;
  return {
    promptIds,
    newIds,
    text: tokenizer.decode(all, { skip_special_tokens: true }),
    continuation: newIds.length ? tokenizer.decode(newIds, { skip_special_tokens: true }) : '',
    tokenTexts: all.map((id) => tokenLabel(tokenizer, id)),
    elapsedMs,
  };
}
