import { fromBinary } from '@bufbuild/protobuf';
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
  q4Twin,
} from '../src/index.js';
import { expectSameAdaptedLogits, greedy, logitsPair, patched } from './adapted.js';

// Adapters trained on the Hugging Face model name their modules `model.layers.N.self_attn.q_proj`; builder graphs
// say `attn`. The same adapter must apply unchanged and give the TorchScript form's numbers (packages/onnx
// module-path.ts holds the alias).

const targets = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'down_proj'];
const layersOf = (b: BuiltModel) => b.linears.filter((l) => targets.some((t) => l.module.endsWith(`.${t}`)));

describe('adapters with Hugging Face module names on builder-form graphs', () => {
  const ts = buildLlama({ seed: 11 });
  const bf = buildLlamaBuilderForm({ seed: 11 });
  const mor = randomMorAdapter(layersOf(ts), { targets, r: 2, experts: 3, seed: 4 });
  const lora = randomLoraAdapter(layersOf(ts), { targets, seed: 5 });

  it('the adapter names self_attn; the builder graph does not', () => {
    expect([...mor.layers.keys()]).toContain('model.layers.0.self_attn.q_proj');
    expect(fromBinary(ModelProtoSchema, bf.onnx).graph!.node.some((n) => n.name.includes('self_attn'))).toBe(
      false,
    );
  });

  it.each([
    ['MoR dense, inference form (folded)', mor, { foldExperts: true }],
    ['MoR top-2', mor, { routing: 'top-k', topK: 2 }],
    ['LoRA', lora, {}],
  ] as const)(
    '%s: logits equal the TorchScript form’s within 1e-4 (prefill, cached step)',
    async (_l, a, o) => {
      await expectSameAdaptedLogits(ts, bf, a, o);
    },
  );

  it('greedy decoding with a MoR adapter picks the TorchScript form’s tokens (Qwen2, tied, rotary separate)', async () => {
    const q = buildQwen2({ seed: 12 });
    const a = randomMorAdapter(layersOf(q), { targets, r: 2, experts: 2, seed: 6 });
    const o = { foldExperts: true };
    const prompt = [1, 45, 46, 47];
    const [x, y] = [
      await greedy(patched(q, a, o), prompt, 8),
      await greedy(patched(buildQwen2BuilderForm({ seed: 12, rotary: 'separate' }), a, o), prompt, 8),
    ];
    expect(y).toEqual(x);
  });

  it('applies to the q4 builder form: MatMulNBits layers, logits equal the adapted dequantized twin’s', async () => {
    const q4 = buildLlamaBuilderForm({ seed: 11, quantize: 'q4', accuracyLevel: 0 });
    const twin = { ...q4, onnx: q4Twin(q4.onnx) };
    const [prefill, step] = await logitsPair(
      patched(q4, mor, { foldExperts: true }),
      patched(twin, mor, { foldExperts: true }),
    );
    expect(prefill).toBeLessThan(1e-4);
    expect(step).toBeLessThan(1e-4);
  });
});
