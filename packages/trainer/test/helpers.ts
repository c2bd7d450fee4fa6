import { mkdtemp, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { buildBertForSequenceClassification, writeModelDir } from '@mor/model-builder';
import { fixture } from '../../transformers/test/helpers.js';

export { fixture };

/** A ChatML-style template (as Qwen's, without tools): turns `<s>role\ncontent</s>\n`. */
export const CHAT_TEMPLATE =
  "{% for m in messages %}{{ '<s>' + m['role'] + '\\n' + m['content'] + '</s>\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<s>assistant\\n' }}{% endif %}";

/** The tiny-llama tokenizer (byte-level BPE, adds `<s>` only), optionally with a chat template. */
export function llamaTokenizer(chatTemplate?: string): PreTrainedTokenizer {
  const json = JSON.parse(readFileSync(fixture('tiny-llama/tokenizer.json'), 'utf8')) as object;
  const config = JSON.parse(readFileSync(fixture('tiny-llama/tokenizer_config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  return new PreTrainedTokenizer(json, chatTemplate ? { ...config, chat_template: chatTemplate } : config);
}

/** A tiny random BERT classifier directory (WordPiece tokenizer adding `[CLS] … [SEP]`), built once per call. */
export async function tinyBertDir(labels = ['NEGATIVE', 'POSITIVE']): Promise<string> {
  const dir = await promisify(mkdtemp)(join(tmpdir(), 'mor-bert-'));
  await writeModelDir(dir, buildBertForSequenceClassification({ labels, seed: 3 }));
  return dir;
}

/** A scratch directory. */
export function scratch(prefix = 'mor-trainer-'): Promise<string> {
  return promisify(mkdtemp)(join(tmpdir(), prefix));
}
