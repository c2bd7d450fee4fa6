import type { PreTrainedModel, PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
import { MorInputError } from '@mor/engine';
import { float32Values } from '../forward-logits.js';

/** Options of {@link classifyText}. */
export interface ClassifyTextOptions {
  model: PreTrainedModel;
  tokenizer: PreTrainedTokenizer;
  /** The model's `config.json` (for `id2label` and `problem_type`). */
  config: Record<string, unknown>;
  text: string;
}

/** A classification: the top label and the probability of every label. */
export interface Classification {
  label: string;
  /** By label name. Softmax (they sum to 1), or per-label sigmoids for `multi_label_classification`. */
  scores: Record<string, number>;
}

function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Runs a sequence classifier on one text and names the labels from `config.id2label` (`LABEL_i` when absent). */
export async function classifyText(options: ClassifyTextOptions): Promise<Classification> {
  const { model, tokenizer, config, text } = options;
  const inputs = tokenizer(text) as Record<string, Tensor>;
  const out = (await model(inputs)) as { logits?: Tensor };
  if (!out.logits) throw new MorInputError('the model returned no logits; is it a sequence classifier?');
  const logits = Array.from(float32Values(out.logits));
  const id2label = (config['id2label'] ?? {}) as Record<string, string>;
  const multiLabel = config['problem_type'] === 'multi_label_classification';
  const probs = multiLabel ? logits.map((v) => 1 / (1 + Math.exp(-v))) : softmax(logits);
  const scores: Record<string, number> = {};
  let best = 0;
  probs.forEach((p, i) => {
    scores[id2label[String(i)] ?? `LABEL_${i}`] = p;
    if (p > probs[best]!) best = i;
  });
  return { label: id2label[String(best)] ?? `LABEL_${best}`, scores };
}
