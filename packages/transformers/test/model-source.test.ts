import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MorInputError } from '@mor/engine';
import { resolveModelSource, taskFromConfig } from '../src/node/index.js';
import { fixture } from './helpers.js';

describe('resolveModelSource and taskFromConfig', () => {
  it('a local directory (relative or absolute) loads by its absolute path', async () => {
    const s = await resolveModelSource(fixture('tiny-llama'));
    expect(s).toEqual({ kind: 'local', dir: fixture('tiny-llama'), id: fixture('tiny-llama') });
    const rel = relative(process.cwd(), fixture('tiny-llama-kv'));
    expect(await resolveModelSource(rel)).toMatchObject({ kind: 'local', id: fixture('tiny-llama-kv') });
  });

  it('two folders of the same name load as two models (transformers.js memoizes file lists by id)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mor-src-'));
    const ids = [];
    for (const parent of ['a', 'b']) {
      const dir = join(root, parent, 'merged');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'config.json'), '{}');
      ids.push((await resolveModelSource(dir)).id);
    }
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('a name that exists nowhere is a Hub id; a missing path or a folder without config.json is an error', async () => {
    expect(await resolveModelSource('HuggingFaceTB/SmolLM2-135M')).toEqual({
      kind: 'hub',
      id: 'HuggingFaceTB/SmolLM2-135M',
    });
    await expect(resolveModelSource('./no/such/dir')).rejects.toThrow(MorInputError);
    await expect(resolveModelSource(await mkdtemp(join(tmpdir(), 'mor-src-')))).rejects.toThrow(
      /no config\.json/,
    );
  });

  it('the head comes from architectures', () => {
    expect(taskFromConfig({ architectures: ['LlamaForCausalLM'] })).toBe('causal-lm');
    expect(taskFromConfig({ architectures: ['GPT2LMHeadModel'] })).toBe('causal-lm');
    expect(taskFromConfig({ architectures: ['BertForSequenceClassification'] })).toBe('seq-cls');
    expect(taskFromConfig({ architectures: ['BertModel'] })).toBeNull();
    expect(taskFromConfig({})).toBeNull();
  });
});
