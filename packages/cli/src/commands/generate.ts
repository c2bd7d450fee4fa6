import { readFile } from 'node:fs/promises';
import { parseJsonlRows } from '@mor/trainer';
import { generateText, loadModel } from '@mor/transformers/node';
import { jsonOption, type CommandSpec } from '../command.js';
import { CliError } from '../errors.js';
import {
  adapterOption,
  deviceOption,
  dtypeOption,
  gateOption,
  loadFlags,
  modelOption,
  optionalPositiveInt,
  optionalString,
  requiredString,
} from '../options.js';

/** The prompts of a `--prompts` file: each row's `prompt` (prompt/completion rows) or `text` (text rows). */
async function readPrompts(file: string): Promise<{ line: number; prompt: string }[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read the prompts file ${file} (${(e as Error).message})`);
  }
  return parseJsonlRows(text, file).map((row) => {
    if (row.kind === 'prompt-completion') return { line: row.line, prompt: row.prompt };
    if (row.kind === 'text') return { line: row.line, prompt: row.text };
    throw new CliError(
      `${file}:${row.line}: --prompts takes {"prompt","completion"} or {"text"} rows, not ${row.kind}`,
    );
  });
}

export const generateCommand: CommandSpec = {
  summary: 'continue a prompt (tokenized with the special tokens, e.g. BOS) with the model and an adapter',
  options: [
    modelOption,
    { flags: '--prompt <text>', description: 'the text to continue' },
    {
      flags: '--prompts <file.jsonl>',
      description:
        'continue every row\'s prompt (or text) instead, one model load; prints "prompt" → "continuation"',
    },
    adapterOption,
    { flags: '--max-new-tokens <k>', description: 'how many tokens to generate (default 32)' },
    { flags: '--greedy', description: "greedy decoding (default: the model's generation_config)" },
    gateOption,
    deviceOption,
    dtypeOption,
    jsonOption,
  ],
  async run(_args, options, out) {
    const maxNewTokens = optionalPositiveInt(options, 'maxNewTokens', '--max-new-tokens');
    const [prompt, promptsFile] = [optionalString(options, 'prompt'), optionalString(options, 'prompts')];
    if ((prompt === undefined) === (promptsFile === undefined))
      throw new CliError('give one of --prompt TEXT or --prompts FILE.jsonl');
    const prompts =
      promptsFile !== undefined ? await readPrompts(promptsFile) : [{ line: 0, prompt: prompt! }];
    const loaded = await loadModel({ model: requiredString(options, 'model'), ...loadFlags(options) });
    try {
      if (loaded.task !== 'causal-lm') throw new CliError('generate needs a causal language model');
      const results = [];
      for (const p of prompts) {
        const result = await generateText({
          model: loaded.model,
          tokenizer: loaded.tokenizer!,
          prompt: p.prompt,
          greedy: options.greedy === true,
          ...(maxNewTokens !== undefined ? { maxNewTokens } : {}),
        });
        results.push({ ...p, ...result });
      }
      if (promptsFile === undefined) {
        const r = results[0]!;
        if (options.json) out.json({ text: r.text, token_ids: r.tokenIds });
        else out.line(r.text);
      } else if (options.json) {
        out.json({
          generations: results.map((r) => ({
            line: r.line,
            prompt: r.prompt,
            text: r.text,
            token_ids: r.tokenIds,
          })),
        });
      } else {
        for (const r of results) out.line(`${JSON.stringify(r.prompt)} → ${JSON.stringify(r.text)}`);
      }
    } finally {
      await loaded.model.dispose();
    }
  },
};
