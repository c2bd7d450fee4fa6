import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { applyAdapter, type AdapterInput } from '@mor/onnx';
import { ModelProtoSchema } from 'onnx-buf';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildLlamaBuilderForm, randomMorAdapter, type BuiltModel } from '../src/index.js';
import { open, webgpuSkipReason } from './backends.js';
import { decoderForward, maxAbsDiff } from './helpers.js';
import { sgdStep } from './train-step.js';

// The builder form on the other backends our users run, each against onnxruntime-node's CPU EP: WebGPU through
// onnxruntime-node (Dawn; SwiftShader where no GPU is present) and WASM through onnxruntime-web in Node (the same
// build the browser loads). The fused com.microsoft graph (GroupQueryAttention, RotaryEmbedding,
// SkipSimplifiedLayerNormalization, MatMulNBits) with a MoR branch for inference, and the decomposed train graph for
// one SGD step.

const targets = ['q_proj', 'v_proj', 'o_proj', 'down_proj'];
const layersOf = (b: BuiltModel) => b.linears.filter((l) => targets.some((t) => l.module.endsWith(`.${t}`)));
const batch = [
  [1, 40, 41, 42, 43, 44, 45, 46],
  [1, 90, 91, 92, 93, 94, 95, 96],
];
/** The builder graph with `adapter` applied (fused ops kept: what inference runs). */
function adaptedBytes(built: BuiltModel, adapter: AdapterInput): Uint8Array {
  const model = fromBinary(ModelProtoSchema, built.onnx);
  applyAdapter(model, adapter);
  return toBinary(ModelProtoSchema, model);
}

const gpuSkip = webgpuSkipReason();
const backends = [
  ['webgpu', gpuSkip, 1e-3],
  ['wasm', null, 1e-4],
] as const;

describe.each(backends)('the builder form on %s equals the CPU EP', (ep, skip, tol) => {
  const reason = skip ? ` (skipped: ${skip})` : '';
  it.skipIf(skip !== null).each([['fp32', undefined] as const, ['q4', 'q4'] as const])(
    `%s, fused GQA/rotary, MoR applied: prompt and KV-cache logits within ${tol}${reason}`,
    async (_l, quantize) => {
      const built = buildLlamaBuilderForm({ seed: 21, quantize, accuracyLevel: 0 });
      const bytes = adaptedBytes(
        built,
        randomMorAdapter(layersOf(built), { targets, r: 2, experts: 2, seed: 8 }),
      );
      const [cpu, other] = [await ort.InferenceSession.create(bytes), await open(bytes, ep)];
      const ids = [[1, 40, 41, 42, 43]];
      const [pa, pb] = [
        await decoderForward(cpu, built, ids, [[1, 1, 1, 1, 1]]),
        await decoderForward(other, built, ids, [[1, 1, 1, 1, 1]]),
      ];
      expect(maxAbsDiff(pa.logits, pb.logits)).toBeLessThan(tol);
      const mask = [[1, 1, 1, 1, 1, 1]];
      const [da, db] = [
        await decoderForward(cpu, built, [[50]], mask, pa.presents),
        await decoderForward(other, built, [[50]], mask, pb.presents),
      ];
      expect(maxAbsDiff(da.logits, db.logits)).toBeLessThan(tol);
      await Promise.all([cpu.release(), other.release()]);
    },
  );

  it.skipIf(skip !== null).each([['fp32', undefined] as const, ['q4', 'q4'] as const])(
    `%s: one MoR SGD step through the decomposed graph within ${tol} of CPU's${reason}`,
    async (_l, quantize) => {
      const built = buildLlamaBuilderForm({ seed: 21, quantize, accuracyLevel: 0 });
      const adapter = randomMorAdapter(layersOf(built), { targets, r: 2, experts: 2, seed: 8 });
      const [x, y] = [
        await sgdStep(built, adapter, batch),
        await sgdStep(built, adapter, batch, (bytes) => open(bytes, ep)),
      ];
      expect(Math.abs(x.loss - y.loss)).toBeLessThan(tol);
      for (const [k, v] of x.params) expect(maxAbsDiff(v, y.params.get(k)!), k).toBeLessThan(tol);
    },
  );
});
