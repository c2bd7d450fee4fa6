import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('mor generate --prompts (one model load, every row of a file)', () => {
  it('continues each row as --prompt would, in file order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mor-prompts-'));
    const file = join(dir, 'prompts.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({ text: 'The small dog' })}\n\n${JSON.stringify({ prompt: 'The small dog', completion: ' x' })}\n`,
    );
    const model = ['generate', '--model', fixture('tiny-llama-kv')];
    const r = expectOk(await runCli([...model, '--prompts', file, ...greedy]));
    const out = JSON.parse(r.stdout) as {
      generations: { line: number; prompt: string; token_ids: number[] }[];
    };
    expect(out.generations.map((g) => [g.line, g.prompt, g.token_ids])).toEqual([
      [1, 'The small dog', golden.greedy_base],
      [3, 'The small dog', golden.greedy_base],
    ]);
    const text = expectOk(await runCli([...model, '--prompts', file, '--max-new-tokens', '12', '--greedy']));
    expect(text.stdout.split('\n')[0]).toMatch(/^"The small dog" → ".*"$/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses both --prompt and --prompts, and neither, in one line', async () => {
    const model = ['generate', '--model', fixture('tiny-llama-kv')];
    for (const extra of [['--prompt', 'a', '--prompts', 'b.jsonl'], []]) {
      const r = await runCli([...model, ...extra]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/give one of --prompt TEXT or --prompts FILE\.jsonl/);
    }
  });
});
