// config.json / tokenizer.json inputs the fuzz harness (tooling/fuzz) exercises: a config.json of `null` once
// escaped loadModel as a TypeError (taskFromConfig reading a property of null), and a broken tokenizer.json as
// transformers.js' own SyntaxError.
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MorInputError } from '@mor/engine';
import { loadTokenizer, readModelConfig } from '../src/node/index.js';
import { fixture } from './helpers.js';

describe('model files that are not what they should be', () => {
  it('readModelConfig refuses a config.json that is valid JSON but not an object', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mor-config-fuzz-'));
    for (const text of ['null', '[1]', '3']) {
      await writeFile(join(dir, 'config.json'), text);
      const error = await readModelConfig({ kind: 'local', dir, id: dir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MorInputError);
      expect((error as Error).message).toBe(
        `${join(dir, 'config.json')}: not a JSON object (a model config is {"model_type": …, …})`,
      );
    }
  });

  it('loadTokenizer turns transformers.js failures on a broken tokenizer.json into a MorInputError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mor-tokenizer-fuzz-'));
    for (const f of ['config.json', 'tokenizer_config.json'])
      await copyFile(fixture(`tiny-llama/${f}`), join(dir, f));
    for (const text of ['{"model": ', '{"model": null}']) {
      await writeFile(join(dir, 'tokenizer.json'), text);
      const error = await loadTokenizer({ kind: 'local', dir, id: dir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MorInputError);
      expect(
        (error as Error).message.startsWith(
          `${join(dir, 'tokenizer.json')}: transformers.js cannot load the tokenizer (`,
        ),
      ).toBe(true);
    }
  });
});
