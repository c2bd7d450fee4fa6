// Rows the fuzz harness (tooling/fuzz) found, minimized: each once escaped parseJsonlRows as a RangeError.
import { describe, expect, it } from 'vitest';
import { parseJsonlRows, TrainDataError } from '../src/index.js';

const deep = '['.repeat(10_000) + ']'.repeat(10_000);

describe('parseJsonlRows on fuzz-found rows', () => {
  it('refuses a deeply nested label or token id with a TrainDataError naming the line', () => {
    for (const row of [
      `{"text":"a","label":${deep}}`,
      `{"input_ids":[1,${deep}]}`,
      `{"input_ids":[1],"labels":[${deep}]}`,
    ]) {
      let error: unknown;
      try {
        parseJsonlRows(`{"text":"ok"}\n${row}\n`, 'd.jsonl');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TrainDataError);
      expect((error as Error).message).toMatch(/^d\.jsonl:2: .* got \[…\] \(nested too deeply to show\)$/);
      expect((error as Error).message.length).toBeLessThan(300);
    }
  });
});
