import { describe, expect, it } from 'vitest';
import { encodeRows, IGNORE_LABEL, parseJsonlRows, TrainDataError } from '../src/index.js';
import { CHAT_TEMPLATE, llamaTokenizer } from './helpers.js';

const jsonl = (...rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n');

describe('parseJsonlRows', () => {
  it('recognises every row kind of docs/cli.md', () => {
    const rows = parseJsonlRows(
      jsonl(
        { text: 'hello' },
        { prompt: '2+2=', completion: '4' },
        {
          messages: [
            { role: 'user', content: 'hi' },
            { role: 'assistant', content: 'yo' },
          ],
        },
        { input_ids: [1, 2, 3], labels: [-100, 2, 3] },
        { text: 'great film', label: 'POSITIVE' },
        { text: 'bad film', label: 0 },
      ) + '\n\n',
      'd.jsonl',
    );
    expect(rows.map((r) => r.kind)).toEqual([
      'text',
      'prompt-completion',
      'messages',
      'tokens',
      'classification',
      'classification',
    ]);
    expect(rows.map((r) => r.line)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it.each([
    ['{"text": "a"}\n{"text": 5}', 2, '"text" must be a non-empty string'],
    ['{"text": "a"}\n\n{"prompt": "x"}', 3, '"prompt" and "completion" must both be strings'],
    ['{not json}', 1, 'not valid JSON'],
    ['[1, 2]', 1, 'expected a JSON object'],
    ['{"input_ids": [1, -3]}', 1, '"input_ids"[1] must be a non-negative integer'],
    ['{"input_ids": [1, 2], "labels": [1]}', 1, '"labels" has 1 entries'],
    ['{"messages": [{"role": "user", "content": "hi"}]}', 1, 'no assistant turn'],
    ['{"text": "a", "messages": []}', 1, 'mixes several kinds'],
    ['{"foo": 1}', 1, 'expected {"text"}'],
  ])('names the file and line of a malformed row: %s', (text, line, problem) => {
    let err: unknown;
    try {
      parseJsonlRows(text, 'data/train.jsonl');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TrainDataError);
    expect((err as Error).message).toMatch(new RegExp(`^data/train\\.jsonl:${line}: `));
    expect((err as Error).message).toContain(problem);
  });
});

describe('encodeRows (causal-lm)', () => {
  const tok = llamaTokenizer(CHAT_TEMPLATE);
  const encode = (row: unknown, maxLength?: number) =>
    encodeRows({
      rows: parseJsonlRows(JSON.stringify(row), 'd.jsonl'),
      fileName: 'd.jsonl',
      task: 'causal-lm',
      tokenizer: tok,
      ...(maxLength ? { maxLength } : {}),
    })[0]!;

  it('text: BOS as the tokenizer adds it, no EOS, labels = ids', () => {
    const ex = encode({ text: 'Hello world' });
    expect(ex.inputIds).toEqual(tok.encode('Hello world'));
    expect(ex.inputIds[0]).toBe(1);
    expect(ex.inputIds.at(-1)).not.toBe(2);
    expect(ex.labels).toEqual(ex.inputIds);
  });

  it('prompt/completion: loss on the completion tokens only', () => {
    const ex = encode({ prompt: 'Reverse: cat dog =', completion: ' dog cat' });
    const promptIds = tok.encode('Reverse: cat dog =');
    expect(ex.inputIds).toEqual(tok.encode('Reverse: cat dog = dog cat'));
    expect(ex.inputIds.slice(0, promptIds.length)).toEqual(promptIds);
    expect(ex.labels!.slice(0, promptIds.length).every((l) => l === IGNORE_LABEL)).toBe(true);
    expect(ex.labels!.slice(promptIds.length)).toEqual(ex.inputIds.slice(promptIds.length));
    expect(tok.decode(ex.inputIds.slice(promptIds.length))).toBe(' dog cat');
  });

  it('messages: chat template rendering, loss on assistant turns (content + end of turn) only', () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Say hi' },
      { role: 'assistant', content: 'hi' },
      { role: 'user', content: 'Again' },
      { role: 'assistant', content: 'hi again' },
    ];
    const ex = encode({ messages });
    const rendered = tok.apply_chat_template(messages, { tokenize: false }) as string;
    expect(tok.decode(ex.inputIds)).toBe(rendered);
    const learnt = ex.inputIds
      .map((id, i) => (ex.labels![i] === IGNORE_LABEL ? ' ' : tok.decode([id])))
      .join('');
    expect(
      learnt
        .split(/ {2,}/)
        .map((s) => s.trim())
        .filter(Boolean),
    ).toEqual(['hi</s>', 'hi again</s>']);
    // learnt spans are exactly the tokens of "hi</s>\n" and "hi again</s>\n"
    const learntIds = ex.labels!.filter((l) => l !== IGNORE_LABEL);
    expect(tok.decode(learntIds)).toBe('hi</s>\nhi again</s>\n');
  });

  it('messages without a chat template fail naming the line', () => {
    expect(() =>
      encodeRows({
        rows: parseJsonlRows(
          '\n' + JSON.stringify({ messages: [{ role: 'assistant', content: 'x' }] }),
          'c.jsonl',
        ),
        fileName: 'c.jsonl',
        task: 'causal-lm',
        tokenizer: llamaTokenizer(),
      }),
    ).toThrow(/^c\.jsonl:2: cannot render "messages": .*chat template/);
  });

  it('input_ids rows: labels default to the ids; -100 kept', () => {
    expect(encode({ input_ids: [1, 5, 6] }).labels).toEqual([1, 5, 6]);
    expect(encode({ input_ids: [1, 5, 6], labels: [-100, 5, -100] }).labels).toEqual([-100, 5, -100]);
  });

  it('a classification row in a causal-lm run, or nothing left to learn, fails before training', () => {
    expect(() => encode({ text: 'x', label: 1 })).toThrow(/^d\.jsonl:1: .*seq-cls/);
    expect(() => encode({ prompt: 'a long prompt here', completion: ' end' }, 3)).toThrow(
      /^d\.jsonl:1: no token to learn after truncation to 3/,
    );
  });
});
