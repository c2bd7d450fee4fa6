import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { decomposeFusedOps } from '@mor/onnx';
import { ModelProtoSchema } from 'onnx-buf';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  buildLlama,
  buildLlamaBuilderForm,
  buildQwen2,
  buildQwen2BuilderForm,
  randomLoraAdapter,
  randomMorAdapter,
  type BuiltModel,
  q4Twin,
} from '../src/index.js';
import { decoderForward, maxAbsDiff } from './helpers.js';
import { maxParamDiff, sgdStep } from './train-step.js';

// Training through the builder form: GroupQueryAttention, RotaryEmbedding and the Skip/SimplifiedLayerNorm chain
// decomposed into standard ops (packages/onnx autodiff/decompose*.ts), the KV cache fed empty as train graphs do
// (packages/transformers train/model-inputs.ts). One SGD step must equal the TorchScript form's, same weights.

const targets = ['q_proj', 'v_proj', 'o_proj', 'down_proj'];
const layersOf = (b: BuiltModel) => b.linears.filter((l) => targets.some((t) => l.module.endsWith(`.${t}`)));
const batch = [
  [1, 40, 41, 42, 43, 44, 45, 46],
  [1, 90, 91, 92, 93, 94, 95, 96],
];

describe('one SGD step through the builder form equals the TorchScript form’s (CPU)', () => {
  const cases = [
    ['Llama, MoR, rotary in GQA', buildLlama, buildLlamaBuilderForm, 'in-attention', 'mor'],
    ['Llama, LoRA, separate RotaryEmbedding', buildLlama, buildLlamaBuilderForm, 'separate', 'lora'],
    ['Qwen2 (tied, biases), MoR', buildQwen2, buildQwen2BuilderForm, 'in-attention', 'mor'],
  ] as const;
  it.each(cases)('%s: within 1e-5', async (_l, ts, bf, rotary, method) => {
    const a = ts({ seed: 21 });
    const adapter =
      method === 'mor'
        ? randomMorAdapter(layersOf(a), { targets, r: 2, experts: 2, seed: 8 })
        : randomLoraAdapter(layersOf(a), { targets, seed: 9 });
    const [x, y] = [
      await sgdStep(a, adapter, batch),
      await sgdStep(bf({ seed: 21, rotary }), adapter, batch),
    ];
    expect(Math.abs(x.loss - y.loss)).toBeLessThan(1e-5);
    expect(maxParamDiff(x.initial, x.params)).toBeGreaterThan(1e-3); // the step moved the adapter
    expect(maxParamDiff(x.params, y.params)).toBeLessThan(1e-5);
  });

  it('q4 builder form (MatMulNBits, GatherBlockQuantized): equals the step on its dequantized fp32 twin', async () => {
    const q4 = buildLlamaBuilderForm({ seed: 21, quantize: 'q4', accuracyLevel: 0 });
    const adapter = randomMorAdapter(layersOf(q4), { targets, r: 2, experts: 2, seed: 8 });
    const twin = { ...q4, onnx: q4Twin(q4.onnx) };
    const [x, y] = [await sgdStep(q4, adapter, batch), await sgdStep(twin, adapter, batch)];
    expect(Math.abs(x.loss - y.loss)).toBeLessThan(1e-5);
    expect(maxParamDiff(x.params, y.params)).toBeLessThan(1e-5);
  });

  it('the decomposed builder graph keeps its KV cache outputs: logits and presents equal the fused graph’s', async () => {
    const b = buildLlamaBuilderForm({ seed: 21 });
    const model = fromBinary(ModelProtoSchema, b.onnx);
    expect(decomposeFusedOps(model.graph!, { opset: 21 })).toBe(2 * 3 + 1);
    expect(model.graph!.node.some((n) => n.domain === 'com.microsoft')).toBe(false);
    const plain = { ...b, onnx: toBinary(ModelProtoSchema, model) };
    const [sa, sb] = [
      await ort.InferenceSession.create(b.onnx),
      await ort.InferenceSession.create(plain.onnx),
    ];
    const ids = [[1, 40, 41, 42, 43]];
    const [pa, pb] = [
      await decoderForward(sa, b, ids, [[1, 1, 1, 1, 1]]),
      await decoderForward(sb, plain, ids, [[1, 1, 1, 1, 1]]),
    ];
    expect(maxAbsDiff(pa.logits, pb.logits)).toBeLessThan(1e-4);
    const mask = [[1, 1, 1, 1, 1, 1]];
    const [da, db] = [
      await decoderForward(sa, b, [[50]], mask, pa.presents),
      await decoderForward(sb, plain, [[50]], mask, pb.presents),
    ];
    expect(maxAbsDiff(da.logits, db.logits)).toBeLessThan(1e-4);
    expect(
      maxAbsDiff(
        da.presents['present.1.key']!.data as Float32Array,
        db.presents['present.1.key']!.data as Float32Array,
      ),
    ).toBeLessThan(1e-4);
  });
});
