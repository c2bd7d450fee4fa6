import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DType, createModelGraph } from '../src/model-graph.js';
import { emitMatMulNBits } from '../src/quantize.js';
import {
  buildBertForSequenceClassification,
  buildLlama,
  dequantizeNBits,
  quantizeInt8,
  quantizeNBits,
  SeededRng,
} from '../src/index.js';
import { decode, decoderForward, maxAbsDiff } from './helpers.js';

function matmul(x: Float32Array, w: Float32Array, m: number, k: number, n: number): Float32Array {
  const y = new Float32Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) for (let t = 0; t < k; t++) y[i * n + j]! += x[i * k + t]! * w[t * n + j]!;
  return y;
}

describe('4-bit MatMulNBits', () => {
  it('round-trips within half a quantization step per block', () => {
    const rng = new SeededRng(1);
    const [k, n] = [80, 6]; // K not a multiple of 32: the last block is padded
    const w = rng.normalArray(k * n, 1);
    const q = quantizeNBits(w, k, n);
    const back = dequantizeNBits(q, k, n);
    for (let r = 0; r < k; r++) {
      for (let c = 0; c < n; c++) {
        const scale = q.scales[c * q.nBlocks + Math.floor(r / 32)]!;
        expect(Math.abs(back[r * n + c]! - w[r * n + c]!)).toBeLessThanOrEqual(scale / 2 + 1e-6);
      }
    }
  });

  it('onnxruntime multiplies by exactly the dequantized weight (packing and zero points agree)', async () => {
    const rng = new SeededRng(2);
    const [m, k, n] = [3, 80, 10];
    const w = rng.normalArray(k * n, 1);
    const x = rng.normalArray(m * k, 1);
    const g = createModelGraph();
    g.input('x', DType.FLOAT, [m, k]);
    emitMatMulNBits(g, '/lin', 'x', w, k, n, 'w', 'y');
    g.output('y', DType.FLOAT, [m, n]);
    const s = await ort.InferenceSession.create(g.toBytes());
    const { y } = await s.run({ x: new ort.Tensor('float32', x, [m, k]) });
    const expected = matmul(x, dequantizeNBits(quantizeNBits(w, k, n), k, n), m, k, n);
    expect(maxAbsDiff(y!.data as Float32Array, expected)).toBeLessThan(1e-4);
    await s.release();
  });

  it('builds a Llama whose block linears are MatMulNBits and whose logits stay near fp32', async () => {
    const q4 = buildLlama({ quantize: 'matmulnbits' });
    const model = decode(q4);
    expect(model.opsetImport.map((o) => o.domain)).toContain('com.microsoft');
    const nb = model.graph!.node.filter((n) => n.opType === 'MatMulNBits');
    expect(nb.length).toBe(14);
    const gate = nb.find((n) => n.name === '/model/layers.0/mlp/gate_proj/MatMul_Q4')!;
    expect(gate.domain).toBe('com.microsoft');
    expect(gate.input.slice(1).map((i) => i.replace(/onnx::MatMul_\d+/, 'W'))).toEqual([
      'W_Q4',
      'W_scales',
      'W_zero_points',
    ]);
    expect(q4.linears.find((l) => l.module === 'lm_head')!.form).toBe('matmul');
    const ids = [[1, 60, 61, 62, 63]];
    const mask = [[1, 1, 1, 1, 1]];
    const fp = buildLlama();
    const a = await decoderForward(await ort.InferenceSession.create(fp.onnx), fp, ids, mask);
    const b = await decoderForward(await ort.InferenceSession.create(q4.onnx), q4, ids, mask);
    const spread = Math.max(...a.logits) - Math.min(...a.logits);
    const err = maxAbsDiff(a.logits, b.logits);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(0.15 * spread);
  });
});

describe('dynamic int8', () => {
  it('quantizes weights symmetrically per tensor', () => {
    const { q, scale } = quantizeInt8(Float32Array.of(-2, 1, 0.5, 2));
    expect(scale).toBeCloseTo(2 / 127, 7);
    expect(Array.from(q)).toEqual([-127, 64, 32, 127]);
  });

  it('emits DynamicQuantizeLinear (shared per activation) + MatMulInteger + Cast + Mul, close to fp32', async () => {
    const int8 = buildBertForSequenceClassification({ quantize: 'dynamic-int8' });
    const g = decode(int8).graph!;
    const count = (op: string) => g.node.filter((n) => n.opType === op).length;
    expect(count('MatMulInteger')).toBe(12);
    // q/k/v read one activation: 4 distinct activations per layer.
    expect(count('DynamicQuantizeLinear')).toBe(8);
    const mm = g.node.find((n) => n.name === '/bert/encoder/layer.0/attention/self/query/MatMul_quant')!;
    expect(mm.opType).toBe('MatMulInteger');
    expect(g.node.find((n) => n.name === '/bert/encoder/layer.0/attention/self/query/Add')!.input[1]).toBe(
      '/bert/encoder/layer.0/attention/self/query/MatMul_output_0',
    );
    const fp = buildBertForSequenceClassification();
    const feeds = () => {
      const t = (v: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
      return {
        input_ids: t([2, 30, 31, 32, 3]),
        attention_mask: t([1, 1, 1, 1, 1]),
        token_type_ids: t([0, 0, 0, 0, 0]),
      };
    };
    const a = (await (await ort.InferenceSession.create(fp.onnx)).run(feeds())).logits!.data as Float32Array;
    const b = (await (await ort.InferenceSession.create(int8.onnx)).run(feeds())).logits!
      .data as Float32Array;
    const err = maxAbsDiff(a, b);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(0.1);
  });
});
