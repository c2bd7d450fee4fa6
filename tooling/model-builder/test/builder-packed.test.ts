import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { applyAdapter, findLinearLayers, LayerMatchError, mergeLora, mergeStaticGate } from '@mor/onnx';
import { ModelProtoSchema } from 'onnx-buf';
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
import { expectSameAdaptedLogits, greedy, logitsPair, patched } from './adapted.js';
import { maxParamDiff, sgdStep } from './train-step.js';

// onnxruntime-genai's builder packs q, k and v into one `attn/qkv_proj/MatMul` read by GroupQueryAttention as
// packed QKV (its default for GQA on CPU, CUDA and WebGPU). Adapters trained on the Hugging Face model target
// `self_attn.q_proj`, `k_proj`, `v_proj`: they must apply to the packed layer's column blocks and give the numbers
// of the unpacked graph with the same weights, for inference and for training.

const layersOf = (b: BuiltModel, targets: string[]) =>
  b.linears.filter((l) => targets.some((t) => l.module.endsWith(`.${t}`)));
const qkvo = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];
const batch = [
  [1, 40, 41, 42, 43, 44, 45, 46],
  [1, 90, 91, 92, 93, 94, 95, 96],
];

describe('packed qkv_proj (builder form)', () => {
  const ts = buildLlama({ seed: 31 });
  const packed = buildLlamaBuilderForm({ seed: 31, qkv: 'packed' });

  it('the graph has one qkv_proj MatMul per layer; layer matching offers it and its q, k, v parts', () => {
    const nodes = fromBinary(ModelProtoSchema, packed.onnx).graph!.node;
    expect(nodes.filter((n) => n.name.endsWith('/attn/qkv_proj/MatMul'))).toHaveLength(ts.cache!.layers);
    expect(nodes.some((n) => n.name.endsWith('/attn/q_proj/MatMul'))).toBe(false);
    const found = findLinearLayers(fromBinary(ModelProtoSchema, packed.onnx));
    const layer0 = found.filter((l) => l.modulePath.startsWith('model.layers.0.attn.'));
    const dims = (p: string) => ts.linears.find((l) => l.module === `model.layers.0.self_attn.${p}`)!;
    expect(layer0.map((l) => [l.modulePath.split('.').pop(), l.dOut, l.part?.offset])).toEqual([
      ['qkv_proj', dims('q_proj').dOut + 2 * dims('k_proj').dOut, undefined],
      ['q_proj', dims('q_proj').dOut, 0],
      ['k_proj', dims('k_proj').dOut, dims('q_proj').dOut],
      ['v_proj', dims('v_proj').dOut, dims('q_proj').dOut + dims('k_proj').dOut],
      ['o_proj', dims('o_proj').dOut, undefined],
    ]);
  });

  it('without an adapter: logits equal the TorchScript form’s (1e-4)', async () => {
    const [prefill, step] = await logitsPair(ts, packed);
    expect(prefill).toBeLessThan(1e-4);
    expect(step).toBeLessThan(1e-4);
  });

  const mor = randomMorAdapter(layersOf(ts, qkvo), { targets: qkvo, r: 2, experts: 3, seed: 4 });
  const loraQV = randomLoraAdapter(layersOf(ts, ['q_proj', 'v_proj']), {
    targets: ['q_proj', 'v_proj'],
    seed: 5,
  });
  it.each([
    ['MoR on q, k, v, o, folded', mor, { foldExperts: true }],
    ['MoR top-2', mor, { routing: 'top-k', topK: 2 }],
    ['LoRA on q and v only (k passes through)', loraQV, {}],
  ] as const)('%s: logits equal the adapted TorchScript form’s (1e-4)', async (_l, a, o) => {
    await expectSameAdaptedLogits(ts, packed, a, o);
  });

  it('Qwen2 (q/k/v biases packed into one Add), q4: greedy tokens equal the unpacked q4 graph’s', async () => {
    const q = buildQwen2({ seed: 12 });
    const a = randomMorAdapter(layersOf(q, qkvo), { targets: qkvo, r: 2, experts: 2, seed: 6 });
    const o = { foldExperts: true };
    const prompt = [1, 45, 46, 47];
    const opts = { seed: 12, quantize: 'q4', accuracyLevel: 0 } as const;
    const [x, y] = [
      await greedy(patched(buildQwen2BuilderForm(opts), a, o), prompt, 8),
      await greedy(patched(buildQwen2BuilderForm({ ...opts, qkv: 'packed' }), a, o), prompt, 8),
    ];
    expect(y).toEqual(x);
  });

  it.each([
    ['fp32', undefined],
    ['q4', 'q4'],
  ] as const)('%s: one MoR SGD step equals the unpacked builder graph’s (1e-5)', async (_l, quantize) => {
    const o = { seed: 31, quantize, accuracyLevel: 0 } as const;
    const [x, y] = [
      await sgdStep(buildLlamaBuilderForm(o), mor, batch),
      await sgdStep(buildLlamaBuilderForm({ ...o, qkv: 'packed' }), mor, batch),
    ];
    expect(Math.abs(x.loss - y.loss)).toBeLessThan(1e-5);
    expect(maxParamDiff(x.initial, x.params)).toBeGreaterThan(1e-3);
    expect(maxParamDiff(x.params, y.params)).toBeLessThan(1e-5);
  });

  it.each([
    ['MoR under a fixed gate', 'mor'],
    ['LoRA on q and v', 'lora'],
  ] as const)(
    'merging %s into the packed weight equals the adapter applied live (1e-4)',
    async (_l, kind) => {
      const gate = [0.5, 0.3, 0.2];
      const model = fromBinary(ModelProtoSchema, packed.onnx);
      const merged = kind === 'mor' ? mergeStaticGate(model, mor, gate) : mergeLora(model, loraQV);
      expect(merged.size).toBe((kind === 'mor' ? mor : loraQV).layers.size);
      const mergedModel = { ...packed, onnx: toBinary(ModelProtoSchema, model) };
      const live =
        kind === 'mor' ? patched(packed, mor, { routing: 'static', gate }) : patched(packed, loraQV);
      const [prefill, step] = await logitsPair(live, mergedModel);
      expect(prefill).toBeLessThan(1e-4);
      expect(step).toBeLessThan(1e-4);
      const [moved] = await logitsPair(packed, mergedModel);
      expect(moved).toBeGreaterThan(1e-2);
    },
  );

  it('an adapter on both qkv_proj and q_proj of one layer is refused, naming both', () => {
    const layers = findLinearLayers(fromBinary(ModelProtoSchema, packed.onnx));
    const pick = (p: string) => layers.find((l) => l.modulePath === `model.layers.0.attn.${p}`)!;
    const a = randomLoraAdapter(
      [
        { module: 'model.layers.0.attn.qkv_proj', dIn: pick('qkv_proj').dIn, dOut: pick('qkv_proj').dOut },
        { module: 'model.layers.0.self_attn.q_proj', dIn: pick('q_proj').dIn, dOut: pick('q_proj').dOut },
      ],
      { targets: ['qkv_proj', 'q_proj'], seed: 1 },
    );
    const apply = () => applyAdapter(fromBinary(ModelProtoSchema, packed.onnx), a);
    expect(apply).toThrow(LayerMatchError);
    expect(apply).toThrow(
      /self_attn\.q_proj.*part of the packed layer model\.layers\.0\.attn\.qkv_proj.*attn\.qkv_proj adapts too/,
    );
  });

  it('packed qkv needs rotary in GQA', () => {
    expect(() => buildLlamaBuilderForm({ qkv: 'packed', rotary: 'separate' })).toThrow(/rotary in-attention/);
  });
});
