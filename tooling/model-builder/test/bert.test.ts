import ort from 'onnxruntime-node';
import { AutoTokenizer, pipeline } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBertForSequenceClassification } from '../src/index.js';
import { decode, installModel, maxAbsDiff, tempModelRoot } from './helpers.js';

const i64 = (rows: number[][]) =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);

describe('buildBertForSequenceClassification', () => {
  const tmp = tempModelRoot();
  afterAll(() => tmp.dispose());
  const built = buildBertForSequenceClassification({ labels: ['NEG', 'NEU', 'POS'], seed: 3 });
  const g = decode(built).graph!;
  const nodes = new Map(g.node.map((n) => [n.name, n]));

  it('has BERT module paths, biased linears, LayerNormalization, erf-gelu, pooler and classifier', () => {
    const paths = [
      'attention/self/query',
      'attention/self/key',
      'attention/self/value',
      'attention/output/dense',
      'intermediate/dense',
      'output/dense',
    ];
    for (const p of paths) {
      const mm = nodes.get(`/bert/encoder/layer.1/${p}/MatMul`)!;
      expect(mm.input[1]).toMatch(/^onnx::MatMul_\d+$/);
      const add = nodes.get(`/bert/encoder/layer.1/${p}/Add`)!;
      expect(add.input).toEqual([`bert.encoder.layer.1.${p.replaceAll('/', '.')}.bias`, mm.output[0]]);
    }
    expect(nodes.get('/bert/encoder/layer.0/attention/output/LayerNorm/LayerNormalization')?.opType).toBe(
      'LayerNormalization',
    );
    expect(nodes.get('/bert/encoder/layer.0/intermediate/intermediate_act_fn/Erf')?.opType).toBe('Erf');
    expect(nodes.get('/bert/pooler/activation/Tanh')?.opType).toBe('Tanh');
    expect(nodes.get('/classifier/Add')!.output).toEqual(['logits']);
    expect(g.input.map((i) => i.name)).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(built.config.id2label).toEqual({ 0: 'NEG', 1: 'NEU', 2: 'POS' });
    expect(built.linears.filter((l) => l.form === 'matmul-add').length).toBe(2 * 6 + 2);
  });

  it('ignores padding: a padded row classifies like the row alone', async () => {
    const s = await ort.InferenceSession.create(built.onnx);
    const ids = [2, 40, 41, 42, 3];
    const alone = await s.run({
      input_ids: i64([ids]),
      attention_mask: i64([[1, 1, 1, 1, 1]]),
      token_type_ids: i64([[0, 0, 0, 0, 0]]),
    });
    const batch = await s.run({
      input_ids: i64([
        [...ids, 0, 0],
        [2, 50, 51, 52, 53, 54, 3],
      ]),
      attention_mask: i64([
        [1, 1, 1, 1, 1, 0, 0],
        [1, 1, 1, 1, 1, 1, 1],
      ]),
      token_type_ids: i64([
        [0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],
      ]),
    });
    expect(batch.logits!.dims).toEqual([2, 3]);
    expect(
      maxAbsDiff((batch.logits!.data as Float32Array).subarray(0, 3), alone.logits!.data as Float32Array),
    ).toBeLessThan(1e-5);
    await s.release();
  });

  it('loads in transformers.js: WordPiece tokenizer and text-classification pipeline', async () => {
    const name = await installModel(tmp.root, 'bert', built);
    const tokenizer = await AutoTokenizer.from_pretrained(name);
    const enc = tokenizer('The movie was GREAT!');
    const tokens = (enc.input_ids.tolist() as bigint[][])[0]!.map(Number);
    const vocab = built.tokenizer.model as { vocab: Record<string, number> };
    expect(tokens[0]).toBe(vocab.vocab['[CLS]']);
    expect(tokens.at(-1)).toBe(vocab.vocab['[SEP]']);
    expect(tokens.slice(1, 4)).toEqual([vocab.vocab.the, vocab.vocab.movie, vocab.vocab.was]);
    expect(tokenizer.decode(tokens, { skip_special_tokens: true })).toBe('the movie was great!');

    const classify = await pipeline('text-classification', name, { dtype: 'fp32' });
    const [top] = (await classify('The movie was GREAT!')) as { label: string; score: number }[];
    // The same logits straight from onnxruntime decide the expected label.
    const s = await ort.InferenceSession.create(built.onnx);
    const out = await s.run({
      input_ids: i64([tokens]),
      attention_mask: i64([tokens.map(() => 1)]),
      token_type_ids: i64([tokens.map(() => 0)]),
    });
    const logits = Array.from(out.logits!.data as Float32Array);
    const best = logits.indexOf(Math.max(...logits));
    const probs = logits.map((l) => Math.exp(l - logits[best]!));
    expect(top!.label).toBe(['NEG', 'NEU', 'POS'][best]);
    expect(top!.score).toBeCloseTo(1 / probs.reduce((a, b) => a + b, 0), 5);
    await s.release();
    await classify.dispose();
  });
});
