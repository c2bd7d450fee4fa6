// config.json inputs the fuzz harness (tooling/fuzz) exercises: valid JSON that is not an object once escaped
// `mor inspect` as a TypeError (reading `model_type` of null).
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectPath } from '../src/index.js';

describe('inspectPath on a config.json that is not an object', () => {
  it('refuses null, arrays and numbers with a CliError naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mor-inspect-fuzz-'));
    for (const text of ['null', '[]', '5', '"llama"']) {
      await writeFile(join(dir, 'config.json'), text);
      const error = await inspectPath(dir).catch((e: unknown) => e);
      expect(error).toMatchObject({
        name: 'CliError',
        message: `${join(dir, 'config.json')}: not a JSON object (a model config is {"model_type": …, …})`,
      });
    }
  });

  it('lists only the string entries of architectures', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mor-inspect-fuzz-'));
    await writeFile(join(dir, 'config.json'), '{"architectures":["LlamaForCausalLM",7,null]}');
    expect(await inspectPath(dir)).toMatchObject({ architectures: ['LlamaForCausalLM'] });
  });
});
