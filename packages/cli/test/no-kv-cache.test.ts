import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { fixture, runCli } from './run-cli.js';

// fixtures/tiny-llama is tiny-llama-kv's weights exported without a KV cache (outputs: logits only).
const golden = JSON.parse(await readFile(fixture('tiny-llama-kv/golden.json'), 'utf8')) as {
  prompt: string;
  max_new_tokens: number;
  greedy_base: number[];
  greedy_mor: number[];
};

describe('mor generate on a decoder graph without a KV cache', () => {
  const generate = (extra: string[]) =>
    runCli([
      'generate',
      '--model',
      fixture('tiny-llama'),
      '--prompt',
      golden.prompt,
      '--max-new-tokens',
      String(golden.max_new_tokens),
      '--greedy',
      '--json',
      ...extra,
    ]);

  it('gives the greedy tokens of the cached export (it failed with "MatMul dimension mismatch")', async () => {
    const r = await generate([]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).token_ids).toEqual(golden.greedy_base);
  });

  it('with an adapter too', async () => {
    const r = await generate(['--adapter', fixture('tiny-llama-kv/mor-adapter')]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).token_ids).toEqual(golden.greedy_mor);
  });
});
