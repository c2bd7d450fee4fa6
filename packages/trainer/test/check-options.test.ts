import { describe, expect, it } from 'vitest';
import { attachAdapter } from '@mor/transformers';
import { MorInputError } from '@mor/engine';
import { generateText } from '@mor/transformers/node';
import { initAdapterDir, trainAdapter } from '../src/node/index.js';
import { fixture } from './helpers.js';

describe('unknown keys of public options objects are refused, naming the valid ones', () => {
  it('trainAdapter({ max_steps, learning_rate }) throws before anything runs (it ran 60 steps at the default lr)', async () => {
    const o = {
      model: fixture('tiny-llama'),
      data: fixture('tiny-llama/golden_data.jsonl'),
      out: '/nonexistent/never-written',
      max_steps: 2,
      learning_rate: 1e-2,
    };
    const err = await trainAdapter(o as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MorInputError);
    expect((err as Error).message).toMatch(
      /^trainAdapter: unknown options "max_steps" \(did you mean "maxSteps"\?\), "learning_rate"; valid options: model, data, out, .*maxSteps.*resume/,
    );
  });

  it('the other entry points share the check', async () => {
    await expect(
      initAdapterDir({ model: fixture('tiny-llama'), out: '/nonexistent/x', rnak: 2 } as never),
    ).rejects.toThrow(/^initAdapterDir: unknown option "rnak" \(did you mean "rank"\?\); valid options: /);
    await expect(generateText({ prompt: 'a', max_new_tokens: 3 } as never)).rejects.toThrow(
      /^generateText: unknown option "max_new_tokens" \(did you mean "maxNewTokens"\?\)/,
    );
    await expect(
      attachAdapter({ sessions: {} }, fixture('tiny-llama/mor-adapter'), { gates: 'uniform' } as never),
    ).rejects.toThrow(
      /^attachAdapter: unknown option "gates" \(did you mean "gate"\?\); valid options: gate, exposeGates, onGates, session, source, sessionOptions$/,
    );
  });

  it('keys set to undefined count as absent', async () => {
    await expect(
      attachAdapter({ sessions: {} }, fixture('tiny-llama/mor-adapter'), { gate: undefined }),
    ).rejects.toThrow(/has no session "model"/);
  });
});
