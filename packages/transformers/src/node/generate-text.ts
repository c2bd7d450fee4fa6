import { cat, type PreTrainedModel, type PreTrainedTokenizer, type Tensor } from '@huggingface/transformers';
import { checkOptions, type OptionNames } from '../check-options.js';
import { MorInputError } from '@mor/engine';

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

/** The decoder session transformers.js generates with, as far as this file needs it. */
interface DecoderSession {
  readonly outputNames: readonly string[];
}

/** transformers.js' per-step update of the generation inputs (an internal method of `PreTrainedModel`). */
type UpdateKwargs = (args: { model_inputs: Record<string, unknown> }) => Record<string, unknown>;

/** Whether the decoder graph returns its KV cache (`present.*`), which `generate()` feeds back in each step. */
function hasKvCache(model: PreTrainedModel): boolean {
  const sessions = model.sessions as Record<string, DecoderSession | undefined>;
  const session = sessions['decoder_model_merged'] ?? sessions['model'];
  return session?.outputNames.some((n) => n.startsWith('present')) ?? true;
}

/**
 * Runs `generate` on a decoder exported without a KV cache (no `present.*` outputs, e.g. `fixtures/tiny-llama`).
 * transformers.js' `generate()` feeds only the newest token after the first step, assuming the cache carries the
 * rest, and such a graph then fails inside onnxruntime (`MatMul dimension mismatch`). Here each step gets the whole
 * sequence again instead, so its last-position logits are exactly those of a full forward pass over the sequence
 * (what a cache reproduces), and transformers.js' logits processors, samplers and stopping criteria stay as they
 * are: greedy tokens equal those of the same weights exported with a cache. Each step costs a forward pass over the
 * whole sequence.
 */
async function withoutKvCache<T>(model: PreTrainedModel, generate: () => Promise<T>): Promise<T> {
  const m = model as unknown as { _update_model_kwargs_for_generation: UpdateKwargs };
  const own = Object.prototype.hasOwnProperty.call(m, '_update_model_kwargs_for_generation');
  const update = m._update_model_kwargs_for_generation;
  m._update_model_kwargs_for_generation = function (this: unknown, args) {
    const previous = args.model_inputs['input_ids'] as Tensor;
    const next = update.call(this, args);
    next['input_ids'] = cat([previous, next['input_ids'] as Tensor], 1);
    next['past_key_values'] = null;
    return next;
  };
  try {
    return await generate();
  } finally {
    if (own) m._update_model_kwargs_for_generation = update;
    else
      delete (m as { _update_model_kwargs_for_generation?: UpdateKwargs })
        ._update_model_kwargs_for_generation;
  }
}

/**
 * Continues `prompt` with `model.generate()` (KV cache and all) and returns the new tokens. A decoder graph without
 * a KV cache generates too, re-reading the whole sequence each step (see {@link withoutKvCache}).
 */
const GENERATE_TEXT_OPTIONS = {
  model: true,
  tokenizer: true,
  prompt: true,
  maxNewTokens: true,
  greedy: true,
} satisfies OptionNames<GenerateTextOptions>;

export async function generateText(options: GenerateTextOptions): Promise<GeneratedText> {
  checkOptions('generateText', options, GENERATE_TEXT_OPTIONS);
  const { model, tokenizer, prompt } = options;
  const maxNewTokens = options.maxNewTokens ?? 32;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) {
    throw new MorInputError(`max new tokens must be a positive integer, got ${maxNewTokens}`);
  }
  const inputs = tokenizer(prompt) as { input_ids: Tensor; attention_mask: Tensor };
  const promptIds = Array.from(inputs.input_ids.data as ArrayLike<bigint>, Number);
  const generate = () =>
    model.generate({
      ...inputs,
      max_new_tokens: maxNewTokens,
      ...(options.greedy ? { do_sample: false } : {}),
    });
  const output = (await (hasKvCache(model) ? generate() : withoutKvCache(model, generate))) as Tensor;
  const tokenIds = Array.from(output.data as ArrayLike<bigint>, Number).slice(promptIds.length);
  const text = tokenizer.decode(tokenIds, { skip_special_tokens: true });
  return { text, tokenIds, promptIds };
}
