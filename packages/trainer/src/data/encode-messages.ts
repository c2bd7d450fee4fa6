import type { PreTrainedTokenizer } from '@huggingface/transformers';
import type { ChatMessage } from './row-kinds.js';

/** Label value that the loss ignores (PyTorch's `ignore_index`, HF's convention). */
export const IGNORE_LABEL = -100;

function render(
  tokenizer: PreTrainedTokenizer,
  messages: ChatMessage[],
  addGenerationPrompt: boolean,
): string {
  return tokenizer.apply_chat_template(messages, {
    tokenize: false,
    add_generation_prompt: addGenerationPrompt,
  }) as string;
}

/**
 * Renders a conversation with the tokenizer's chat template and marks the assistant turns as the tokens to learn.
 * The template gives no offsets, so the turns are found by rendering incrementally: for an assistant message i,
 * its span starts where `messages[0..i)` rendered with the generation prompt ends (so the assistant header is not
 * learnt) and ends where `messages[0..i]` rendered ends (so the end-of-turn token is learnt, as HF's
 * `{% generation %}` masks do). Each span between boundaries is tokenized on its own, without special tokens
 * (apply_chat_template does not add them either: the template writes them), so the boundaries are exact.
 *
 * @returns the token ids and labels (ids on assistant spans, -100 elsewhere); throws an Error whose message is
 * the problem when the template is missing or does not render the conversation as a growing prefix.
 */
export function encodeMessages(
  tokenizer: PreTrainedTokenizer,
  messages: ChatMessage[],
): { inputIds: number[]; labels: number[] } {
  if (!tokenizer.chat_template) {
    throw new Error(
      '"messages" rows need a chat template, and the tokenizer has none (tokenizer_config.json chat_template)',
    );
  }
  const full = render(tokenizer, messages, false);
  const spans: Array<[number, number]> = [];
  for (let i = 0; i < messages.length; i++) {
    if (messages[i]!.role !== 'assistant') continue;
    const start = i === 0 ? 0 : render(tokenizer, messages.slice(0, i), true).length;
    const upTo = render(tokenizer, messages.slice(0, i + 1), false);
    if (!full.startsWith(upTo) || start > upTo.length) {
      throw new Error(
        `the chat template does not render messages[0..${i}] as a prefix of the whole conversation`,
      );
    }
    spans.push([start, upTo.length]);
  }
  const cuts = [...new Set([0, ...spans.flat(), full.length])].sort((a, b) => a - b);
  const inputIds: number[] = [];
  const labels: number[] = [];
  for (let c = 0; c + 1 < cuts.length; c++) {
    const [from, to] = [cuts[c]!, cuts[c + 1]!];
    const ids = tokenizer.encode(full.slice(from, to), { add_special_tokens: false });
    const learn = spans.some(([s, e]) => from >= s && to <= e);
    inputIds.push(...ids);
    labels.push(...ids.map((id) => (learn ? id : IGNORE_LABEL)));
  }
  return { inputIds, labels };
}
