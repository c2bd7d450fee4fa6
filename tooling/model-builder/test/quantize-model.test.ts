import { encodeModelBytes } from '@mor/onnx';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildLlama, quantizeMatMulsNBits } from '../src/index.js';
import { decode, decoderForward, maxAbsDiff } from './helpers.js';

// quantizeMatMulsNBits rewrites an fp32 graph; on the block linears it must give the graph the builder writes with
// `quantize: 'matmulnbits'` from the same weights (same quantizer, same MatMulNBits storage and node names).
describe('quantizeMatMulsNBits', () => {
  it('turns an fp32 Llama into the builder’s q4 Llama: same node names, same logits', async () => {
    const fp = buildLlama({ seed: 4 });
    const q4 = buildLlama({ seed: 4, quantize: 'matmulnbits' });
    const model = decode(fp);
    const report = quantizeMatMulsNBits(model, { filter: (n) => n.name.startsWith('/model/layers.') });
    const names = (m: typeof model) =>
      m.graph!.node.filter((n) => n.opType === 'MatMulNBits').map((n) => n.name);
    expect(report.quantized).toEqual(names(decode(q4)));
    expect(report.quantized).toContain('/model/layers.0/mlp/gate_proj/MatMul_Q4');
    const rewritten = { ...fp, onnx: encodeModelBytes(model) };
    // The float weights of the quantized MatMuls are gone.
    expect(rewritten.onnx.length).toBeLessThan(fp.onnx.length);
    const ids = [[1, 60, 61, 62, 63]];
    const mask = [[1, 1, 1, 1, 1]];
    const a = await decoderForward(await ort.InferenceSession.create(rewritten.onnx), rewritten, ids, mask);
    const b = await decoderForward(await ort.InferenceSession.create(q4.onnx), q4, ids, mask);
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-5);
  });

  it('leaves a graph without constant-weight MatMuls alone', () => {
    const model = decode(buildLlama({ seed: 4, quantize: 'matmulnbits', quantizeFilter: () => true }));
    expect(quantizeMatMulsNBits(model).quantized).toEqual([]);
  });
});
