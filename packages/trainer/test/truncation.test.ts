import { AutoTokenizer, env } from '@huggingface/transformers';
import { rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeParts,
  encodeRows,
  joinTruncated,
  parseJsonlRows,
  type PreTrainedTokenizerLike,
} from './truncation-helpers.js';
import { llamaTokenizer, tinyBertDir } from './helpers.js';

describe('truncation keeps the special tokens, as Python transformers does', () => {
  let bertDir: string;
  let bert: PreTrainedTokenizerLike;
  beforeAll(async () => {
    bertDir = await tinyBertDir();
    env.localModelPath = `${dirname(bertDir)}/`;
    env.allowRemoteModels = false;
    bert = await AutoTokenizer.from_pretrained(basename(bertDir));
  });
  afterAll(() => rm(bertDir, { recursive: true, force: true }));

  it('BERT: [CLS] … [SEP] stays whole; transformers.js truncation would drop [SEP]', () => {
    const text = 'the quick brown fox jumps over the lazy dog';
    const [cls] = bert.encode('[CLS]', { add_special_tokens: false });
    expect(bert.decode([cls!])).toBe('[CLS]');
    const parts = encodeParts(bert, text);
    expect(parts.prefix).toEqual([cls]);
    expect(parts.suffix).toEqual([bert.sep_token_id]);
    const ids = joinTruncated(parts, 5);
    expect(ids).toHaveLength(5);
    expect(ids[0]).toBe(cls);
    expect(ids[4]).toBe(bert.sep_token_id);
    expect(ids.slice(1, 4)).toEqual(parts.content.slice(0, 3));
    // What transformers.js itself does with truncation: the trailing [SEP] is cut off.
    const js = Array.from(
      bert(text, { truncation: true, max_length: 5 }).input_ids.data as BigInt64Array,
      Number,
    );
    expect(js.at(-1)).not.toBe(bert.sep_token_id);
  });

  it('seq-cls rows map label names through label2id, and indices are range-checked', () => {
    const rows = parseJsonlRows('{"text":"good","label":"POSITIVE"}\n{"text":"bad","label":0}', 'c.jsonl');
    const ex = encodeRows({
      rows,
      fileName: 'c.jsonl',
      task: 'seq-cls',
      tokenizer: bert,
      label2id: { NEGATIVE: 0, POSITIVE: 1 },
      numLabels: 2,
      maxLength: 4,
    });
    expect(ex.map((e) => e.classId)).toEqual([1, 0]);
    expect(ex[0]!.labels).toBeNull();
    const bad = parseJsonlRows('{"text":"x","label":"MAYBE"}\n{"text":"y","label":7}', 'c.jsonl');
    expect(() =>
      encodeRows({
        rows: bad,
        fileName: 'c.jsonl',
        task: 'seq-cls',
        tokenizer: bert,
        label2id: { NEGATIVE: 0, POSITIVE: 1 },
        numLabels: 2,
      }),
    ).toThrow(/^c\.jsonl:1: unknown label "MAYBE"; the model's labels are NEGATIVE, POSITIVE/);
    expect(() =>
      encodeRows({ rows: bad.slice(1), fileName: 'c.jsonl', task: 'seq-cls', tokenizer: bert, numLabels: 2 }),
    ).toThrow(/^c\.jsonl:2: label index 7 is out of range/);
  });

  it('Llama: BOS kept at the front, the text cut at the end, no EOS added', () => {
    const tok = llamaTokenizer();
    const rows = parseJsonlRows('{"text":"one two three four five six seven"}', 't.jsonl');
    const [ex] = encodeRows({ rows, fileName: 't.jsonl', task: 'causal-lm', tokenizer: tok, maxLength: 4 });
    expect(ex!.inputIds).toEqual(tok.encode('one two three four five six seven').slice(0, 4));
    expect(ex!.inputIds[0]).toBe(tok.bos_token_id);
  });

  it('addEos appends EOS and keeps it through truncation', () => {
    const tok = llamaTokenizer();
    const rows = parseJsonlRows('{"text":"one two three four five six seven"}', 't.jsonl');
    const [ex] = encodeRows({
      rows,
      fileName: 't.jsonl',
      task: 'causal-lm',
      tokenizer: tok,
      maxLength: 4,
      addEos: true,
    });
    expect(ex!.inputIds).toHaveLength(4);
    expect(ex!.inputIds[0]).toBe(tok.bos_token_id);
    expect(ex!.inputIds[3]).toBe(tok.eos_token_id);
  });
});
