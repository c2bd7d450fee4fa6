import { fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  addCausalLmLoss,
  applyAdapter,
  buildTrainStep,
  decomposeFusedOps,
  opsetVersion,
  type AdapterInput,
} from '@mor/onnx';
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
} from '../src/index.js';
import { decoderForward, maxAbsDiff } from './helpers.js';
import { q4Twin } from './q4-twin.js';

// Training through the builder form: GroupQueryAttention, RotaryEmbedding and the Skip/SimplifiedLayerNorm chain
// decomposed into standard ops (packages/onnx autodiff/decompose*.ts), the KV cache fed empty as train graphs do
// (packages/transformers train/model-inputs.ts). One SGD step must equal the TorchScript form's, same weights.

const targets = ['q_proj', 'v_proj', 'o_proj', 'down_proj'];
const layersOf = (b: BuiltModel) => b.linears.filter((l) => targets.some((t) => l.module.endsWith(`.${t}`)));
const i64 = (rows: number[][]) =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);

/** One SGD step (lr 0.5) on a causal-LM batch: the loss and the updated adapter parameters. */
async function sgdStep(
  built: BuiltModel,
  adapter: AdapterInput,
  ids: number[][],
): Promise<{ loss: number; params: Map<string, Float32Array>; initial: Map<string, Float32Array> }> {
  const model = fromBinary(ModelProtoSchema, built.onnx);
  const graph = model.graph!;
  const opset = opsetVersion(model)!;
  graph.output = graph.output.filter((o) => o.name === 'logits');
  const { params } = applyAdapter(model, adapter, { paramsAsInputs: true });
  decomposeFusedOps(graph, { opset });
  addCausalLmLoss(graph, { logits: 'logits', loss: 'loss', opset });
  const step = buildTrainStep(graph, {
    loss: 'loss',
    params: [...params.keys()],
    optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 },
    opset,
  });
  const s = await ort.InferenceSession.create(toBinary(ModelProtoSchema, model));
  const c = built.cache!;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: i64(ids),
    attention_mask: i64(ids.map((r) => r.map(() => 1))),
    labels: i64(ids),
    lr: new ort.Tensor('float32', Float32Array.of(0.5), []),
  };
  if (s.inputNames.includes('position_ids')) feeds.position_ids = i64(ids.map((r) => r.map((_, j) => j)));
  for (let i = 0; i < c.layers; i++)
    for (const kind of ['key', 'value'])
      feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [
        ids.length,
        c.kvHeads,
        0,
        c.headDim,
      ]);
  for (const [name, p] of params) feeds[name] = new ort.Tensor('float32', p.data, p.dims);
  const out = await s.run(feeds);
  await s.release();
  const updated = new Map([...step.params].map(([p, o]) => [p, out[o]!.data as Float32Array]));
  const initial = new Map([...params].map(([k, p]) => [k, p.data]));
  return { loss: Number((out.loss!.data as Float32Array)[0]), params: updated, initial };
}

function maxParamDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  expect([...b.keys()]).toEqual([...a.keys()]);
  return Math.max(...[...a].map(([k, v]) => maxAbsDiff(v, b.get(k)!)));
}

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
