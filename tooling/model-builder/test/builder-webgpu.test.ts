import { fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  addCausalLmLoss,
  applyAdapter,
  buildTrainStep,
  decomposeFusedOps,
  opsetVersion,
  type AdapterInput,
} from '@mor/onnx';
import { existsSync } from 'node:fs';
import { ModelProtoSchema } from 'onnx-buf';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildLlamaBuilderForm, randomMorAdapter, type BuiltModel } from '../src/index.js';
import { decoderForward, maxAbsDiff } from './helpers.js';

// The builder form on onnxruntime-node's WebGPU execution provider (Dawn; SwiftShader where no GPU is present):
// the fused com.microsoft graph (GroupQueryAttention, RotaryEmbedding, SkipSimplifiedLayerNormalization, MatMulNBits)
// with a MoR branch for inference, and the decomposed train graph for one SGD step, each against the CPU EP.

/** Why WebGPU cannot run here, or null (Dawn needs a Vulkan loader and an ICD). */
function webgpuSkipReason(): string | null {
  const icd = process.env['VK_ICD_FILENAMES'];
  if (!icd) return 'VK_ICD_FILENAMES is not set';
  if (!existsSync(icd)) return `VK_ICD_FILENAMES names a missing file (${icd})`;
  const dirs = [
    ...(process.env['LD_LIBRARY_PATH'] ?? '').split(':'),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib',
  ];
  return dirs.some((d) => d && existsSync(`${d}/libvulkan.so.1`))
    ? null
    : 'no Vulkan loader (libvulkan.so.1)';
}

const targets = ['q_proj', 'v_proj', 'o_proj', 'down_proj'];
const layersOf = (b: BuiltModel) => b.linears.filter((l) => targets.some((t) => l.module.endsWith(`.${t}`)));
const i64 = (rows: number[][]) =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);
const batch = [
  [1, 40, 41, 42, 43, 44, 45, 46],
  [1, 90, 91, 92, 93, 94, 95, 96],
];
type Ep = 'cpu' | 'webgpu';

/** The builder graph with `adapter` applied (fused ops kept: what inference runs). */
function adaptedBytes(built: BuiltModel, adapter: AdapterInput): Uint8Array {
  const model = fromBinary(ModelProtoSchema, built.onnx);
  applyAdapter(model, adapter);
  return toBinary(ModelProtoSchema, model);
}

/** One SGD step (lr 0.5) through the decomposed train graph on `ep`: the loss and the updated parameters. */
async function sgdStep(built: BuiltModel, adapter: AdapterInput, ep: Ep) {
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
  const s = await ort.InferenceSession.create(toBinary(ModelProtoSchema, model), {
    executionProviders: [ep],
  });
  const c = built.cache!;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: i64(batch),
    attention_mask: i64(batch.map((r) => r.map(() => 1))),
    labels: i64(batch),
    lr: new ort.Tensor('float32', Float32Array.of(0.5), []),
  };
  if (s.inputNames.includes('position_ids')) feeds.position_ids = i64(batch.map((r) => r.map((_, j) => j)));
  for (let i = 0; i < c.layers; i++)
    for (const kind of ['key', 'value'])
      feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [
        batch.length,
        c.kvHeads,
        0,
        c.headDim,
      ]);
  for (const [name, p] of params) feeds[name] = new ort.Tensor('float32', p.data, p.dims);
  const out = await s.run(feeds);
  await s.release();
  const updated = new Map([...step.params].map(([p, o]) => [p, out[o]!.data as Float32Array]));
  return { loss: Number((out.loss!.data as Float32Array)[0]), params: updated };
}

const skip = webgpuSkipReason();
const reason = skip ? ` (skipped: ${skip})` : '';

describe('the builder form on WebGPU equals the CPU EP', () => {
  it.skipIf(skip !== null).each([['fp32', undefined] as const, ['q4', 'q4'] as const])(
    `%s, fused GQA/rotary, MoR applied: prompt and KV-cache logits within 1e-3${reason}`,
    async (_l, quantize) => {
      const built = buildLlamaBuilderForm({ seed: 21, quantize, accuracyLevel: 0 });
      const bytes = adaptedBytes(
        built,
        randomMorAdapter(layersOf(built), { targets, r: 2, experts: 2, seed: 8 }),
      );
      const [cpu, gpu] = [
        await ort.InferenceSession.create(bytes),
        await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'] }),
      ];
      const ids = [[1, 40, 41, 42, 43]];
      const [pa, pb] = [
        await decoderForward(cpu, built, ids, [[1, 1, 1, 1, 1]]),
        await decoderForward(gpu, built, ids, [[1, 1, 1, 1, 1]]),
      ];
      expect(maxAbsDiff(pa.logits, pb.logits)).toBeLessThan(1e-3);
      const mask = [[1, 1, 1, 1, 1, 1]];
      const [da, db] = [
        await decoderForward(cpu, built, [[50]], mask, pa.presents),
        await decoderForward(gpu, built, [[50]], mask, pb.presents),
      ];
      expect(maxAbsDiff(da.logits, db.logits)).toBeLessThan(1e-3);
      await Promise.all([cpu.release(), gpu.release()]);
    },
  );

  it.skipIf(skip !== null)(
    `one MoR SGD step through the decomposed graph: within 1e-3 of CPU's${reason}`,
    async () => {
      const built = buildLlamaBuilderForm({ seed: 21 });
      const adapter = randomMorAdapter(layersOf(built), { targets, r: 2, experts: 2, seed: 8 });
      const [x, y] = [await sgdStep(built, adapter, 'cpu'), await sgdStep(built, adapter, 'webgpu')];
      expect(Math.abs(x.loss - y.loss)).toBeLessThan(1e-3);
      for (const [k, v] of x.params) expect(maxAbsDiff(v, y.params.get(k)!), k).toBeLessThan(1e-3);
    },
  );
});
