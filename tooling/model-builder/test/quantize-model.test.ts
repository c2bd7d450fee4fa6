import { encodeModelBytes } from '@mor/onnx';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  buildLlama,
  buildLlamaBuilderForm,
  quantizeDynamicWeight,
  quantizeMatMulsDynamic,
  quantizeMatMulsNBits,
} from '../src/index.js';
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

// quantizeMatMulsDynamic writes onnxruntime's quantize_dynamic form (transformers.js' q8 model_quantized.onnx); on
// the block linears with int8 weights per tensor it must give the graph the builder writes with
// `quantize: 'dynamic-int8'` (same quantizer, same node names and initializers).
describe('quantizeMatMulsDynamic', () => {
  const ids = [[1, 60, 61, 62, 63]];
  const mask = [[1, 1, 1, 1, 1]];
  const logits = async (b: ReturnType<typeof buildLlama>) =>
    (await decoderForward(await ort.InferenceSession.create(b.onnx), b, ids, mask)).logits;

  it('turns an fp32 Llama into the builder’s q8 Llama: same nodes, same logits', async () => {
    const fp = buildLlama({ seed: 4 });
    const q8 = buildLlama({ seed: 4, quantize: 'dynamic-int8' });
    const model = decode(fp);
    const report = quantizeMatMulsDynamic(model, {
      filter: (n) => n.name.startsWith('/model/layers.'),
      gathers: false, // the builder's form keeps the embedding float
    });
    const ops = (m: typeof model) => m.graph!.node.map((n) => `${n.opType} ${n.name}`);
    expect(ops(model)).toEqual(ops(decode(q8)));
    expect(report.quantized).toContain('/model/layers.0/mlp/gate_proj/MatMul_quant');
    const rewritten = { ...fp, onnx: encodeModelBytes(model) };
    expect(maxAbsDiff(await logits(rewritten), await logits(q8))).toBe(0);
  });

  it('uint8 per column (QUInt8): asymmetric zero points per column, close to fp32', async () => {
    const fp = buildLlama({ seed: 4 });
    const model = decode(fp);
    quantizeMatMulsDynamic(model, { weightType: 'uint8', perChannel: true });
    const mm = model.graph!.node.find((n) => n.opType === 'MatMulInteger')!;
    const init = (name: string) => model.graph!.initializer.find((t) => t.name === name)!;
    const z = init(mm.input[3]!);
    expect(z.dataType).toBe(2); // UINT8
    expect(z.dims.map(Number)).toEqual([Number(init(mm.input[1]!).dims[1])]);
    const err = maxAbsDiff(await logits({ ...fp, onnx: encodeModelBytes(model) }), await logits(fp));
    console.log(`uint8 per-column q8 vs fp32: max |Δlogit| ${err}`);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(0.25);
  });

  it('quantizes the embedding table as onnxruntime’s GatherQuant: Gather of int8, DequantizeLinear', async () => {
    const fp = buildLlama({ seed: 4 });
    const model = decode(fp);
    quantizeMatMulsDynamic(model);
    const g = model.graph!;
    const gather = g.node.find((n) => n.opType === 'Gather' && n.input[1] === 'input_ids')!;
    expect(gather.input[0]).toBe('model.embed_tokens.weight_quantized');
    const dq = g.node.find((n) => n.input[0] === gather.output[0])!;
    expect(dq.opType).toBe('DequantizeLinear');
    expect(g.initializer.some((t) => t.name === 'model.embed_tokens.weight')).toBe(false);
    const err = maxAbsDiff(await logits({ ...fp, onnx: encodeModelBytes(model) }), await logits(fp));
    console.log(`q8 with the embedding quantized vs fp32: max |Δlogit| ${err}`);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(0.25);
  });

  it('picks uint8 weights for a graph with GroupQueryAttention, as transformers.js does', () => {
    const model = decode(buildLlamaBuilderForm({ seed: 4 }));
    expect(quantizeMatMulsDynamic(model).quantized.length).toBeGreaterThan(0);
    const types = new Set(
      model.graph!.initializer.filter((t) => t.name.endsWith('_quantized')).map((t) => t.dataType),
    );
    expect([...types]).toEqual([2]);
  });

  it('quantizes a weight as onnxruntime does: int8 symmetric, uint8 over a range holding 0', () => {
    const w = Float32Array.of(-1, 0.3, 2, 0.5); // [K=2, N=2]
    const u = quantizeDynamicWeight(w, 2, 2, 'uint8');
    expect(u.scales[0]).toBeCloseTo(3 / 255, 7);
    expect(Array.from(u.zeroPoints)).toEqual([85]);
    // numpy (onnxruntime's quantize_nparray): (w / scale).round() in float32 = [-85, 26, 170, 42] (42.5 → 42), + 85
    expect(Array.from(u.q)).toEqual([0, 111, 255, 127]);
    const c = quantizeDynamicWeight(w, 2, 2, 'int8', true); // per column: max |w| 2 and 0.5; -63.5 → -64
    expect(Array.from(c.scales)).toEqual([Math.fround(2 / 127), Math.fround(0.5 / 127)]);
    expect(Array.from(c.q)).toEqual([-64, 76, 127, 127]);
  });
});
