import { join } from 'node:path';
import { AutoTokenizer, type PreTrainedTokenizer } from '@huggingface/transformers';
import { MorInputError } from '@mor/engine';
import { useModelSource, type ModelSource } from './model-source.js';

/**
 * Loads a model's tokenizer with transformers.js' `AutoTokenizer`. A tokenizer.json / tokenizer_config.json that
 * transformers.js cannot read fails as a {@link MorInputError} naming the file and transformers.js' reason,
 * not as whatever it threw from inside (a SyntaxError from JSON.parse, a TypeError for a missing field).
 */
export async function loadTokenizer(source: ModelSource): Promise<PreTrainedTokenizer> {
  const id = useModelSource(source);
  try {
    return await AutoTokenizer.from_pretrained(id);
  } catch (e) {
    const where = source.kind === 'local' ? join(source.dir, 'tokenizer.json') : `the tokenizer of ${id}`;
    const reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new MorInputError(`${where}: transformers.js cannot load the tokenizer (${reason})`, { cause: e });
  }
}
