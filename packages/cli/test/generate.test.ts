import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectOk } from './helpers/logits.js';
import { fixture, runCli } from './run-cli.js';

const golden = JSON.parse(readFileSync(fixture('tiny-llama-kv/golden.json'), 'utf8')) as {
  prompt: string;
  prompt_ids: number[];
  greedy_base: number[];
  greedy_mor: number[];
};

const args = ['generate', '--model', fixture('tiny-llama-kv'), '--prompt', 'The small dog'];
const greedy = ['--max-new-tokens', '12', '--greedy', '--json'];

describe('mor generate (tiny-llama-kv, PyTorch greedy goldens)', () => {
  it('the golden prompt is the one the test uses, and it starts with BOS', () => {
    expect(golden.prompt).toBe('The small dog');
    expect(golden.prompt_ids[0]).toBe(1);
  });

  it('reproduces greedy_base without an adapter', async () => {
    const r = expectOk(await runCli([...args, ...greedy]));
    const out = JSON.parse(r.stdout) as { text: string; token_ids: number[] };
    expect(out.token_ids).toEqual(golden.greedy_base);
    expect(typeof out.text).toBe('string');
  });

  it('reproduces greedy_mor with the MoR adapter', async () => {
    const r = expectOk(await runCli([...args, ...greedy, '--adapter', fixture('tiny-llama-kv/mor-adapter')]));
    expect(JSON.parse(r.stdout).token_ids).toEqual(golden.greedy_mor);
  });

  it('prints only the text without --json', async () => {
    const json = JSON.parse(expectOk(await runCli([...args, ...greedy])).stdout) as { text: string };
    const r = expectOk(await runCli([...args, '--max-new-tokens', '12', '--greedy']));
    expect(r.stdout).toBe(`${json.text}\n`);
  });
});
