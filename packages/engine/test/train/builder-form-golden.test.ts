import { readFileSync } from 'node:fs';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { loadAdapter } from '@mor/format/node';
import { applyAdapter, type AdapterInput } from '@mor/onnx';
import { buildBuilderForm, builtModelFromExport, type BuiltModel } from '@mor/model-builder';
import { ModelProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { transformersOrt } from '../../src/ort-module.js';
import type { OrtTensorLike } from '../../src/ort-types.js';
import { TrainSession } from '../../src/train/index.js';
import { fixture, goldenRows, lmBatch, maxAdapterDiff } from './helpers.js';

// The model builder's graph form (GroupQueryAttention with RoPE inside, SimplifiedLayerNorm chains, seqlens_k,
// packed or separate q/k/v) rewritten from PyTorch's own tiny Llama (fixtures/tiny-llama-kv: the TorchScript
// export of the weights the goldens were computed with). Adapters made by PyTorch/PEFT must give PyTorch's numbers
// on it — logits, greedy tokens — and one SGD step through it must be the PyTorch step (not merely equal to our
// own TorchScript-form step).

const config = JSON.parse(readFileSync(fixture('tiny-llama-kv/config.json'), 'utf8')) as Record<
  string,
  unknown
>;
const twin = builtModelFromExport(
  new Uint8Array(readFileSync(fixture('tiny-llama-kv/onnx/model.onnx'))),
  config,
);
/**
 * The newest builder's KV-cache declaration: `[batch, kv_heads, past_sequence_length, "kv_cache_dim"]`. Training
 * feeds the past empty (`[batch, kv_heads, 0, 0]` then), which onnxruntime's Concat accepts (zero-size inputs are
 * skipped) on CPU and WebGPU alike; the head size the GQA decomposition needs comes from the rotary caches.
 */
function symbolicKvCacheDim(built: BuiltModel): BuiltModel {
  const model = fromBinary(ModelProtoSchema, built.onnx);
  for (const v of [...model.graph!.input, ...model.graph!.output]) {
    if (!/^(past_key_values|present)\./.test(v.name) || v.type?.value.case !== 'tensorType') continue;
    v.type.value.value.shape!.dim[3]!.value = { case: 'dimParam', value: 'kv_cache_dim' };
  }
  return { ...built, onnx: toBinary(ModelProtoSchema, model) };
}
const forms = [
  ['q, k, v separate', buildBuilderForm(twin, { rotary: 'in-attention' })],
  ['q, k, v packed', buildBuilderForm(twin, { rotary: 'in-attention', qkv: 'packed' })],
  [
    'packed, KV cache declared with a symbolic kv_cache_dim',
    symbolicKvCacheDim(buildBuilderForm(twin, { rotary: 'in-attention', qkv: 'packed' })),
  ],
] as const;
interface Tensorish {
  shape: number[];
  data: number[];
}
const kvGolden = JSON.parse(readFileSync(fixture('tiny-llama-kv/golden.json'), 'utf8')) as {
  prompt_ids: number[];
  greedy_base: number[];
  greedy_mor: number[];
  prompt_logits_mor: Tensorish;
};
const golden = JSON.parse(readFileSync(fixture('tiny-llama/golden.json'), 'utf8')) as {
  input_ids: number[][];
  logits_peft_lora: Tensorish;
  loss_mor: number;
};

function adapted(built: BuiltModel, adapter?: AdapterInput): Uint8Array {
  if (!adapter) return built.onnx;
  const model = fromBinary(ModelProtoSchema, built.onnx);
  applyAdapter(model, adapter);
  return toBinary(ModelProtoSchema, model);
}

/** Logits of one forward with the KV cache `past` (empty when absent), and the presents. */
async function forward(
  bytes: Uint8Array,
  built: BuiltModel,
  rows: number[][],
  past?: Record<string, OrtTensorLike>,
) {
  const ort = await transformersOrt();
  const s = await ort.InferenceSession.create(bytes);
  const c = built.cache!;
  const total = rows[0]!.length + (past ? Number(past['present.0.key']!.dims[2]) : 0);
  const i64 = (r: number[][]) =>
    new ort.Tensor('int64', BigInt64Array.from(r.flat(), BigInt) as never, [r.length, r[0]!.length]);
  const feeds: Record<string, OrtTensorLike> = {
    input_ids: i64(rows),
    attention_mask: i64(rows.map(() => Array.from({ length: total }, () => 1))),
  };
  for (let i = 0; i < c.layers; i++)
    for (const kind of ['key', 'value'])
      feeds[`past_key_values.${i}.${kind}`] =
        past?.[`present.${i}.${kind}`] ??
        new ort.Tensor('float32', new Float32Array(0) as never, [rows.length, c.kvHeads, 0, c.headDim]);
  const out = await s.run(feeds);
  await s.release();
  return { logits: out['logits']!.data as Float32Array, out };
}

async function greedy(
  bytes: Uint8Array,
  built: BuiltModel,
  prompt: number[],
  steps: number,
): Promise<number[]> {
  const vocab = config['vocab_size'] as number;
  const tokens: number[] = [];
  let rows = [prompt];
  let past: Record<string, OrtTensorLike> | undefined;
  for (let t = 0; t < steps; t++) {
    const { logits, out } = await forward(bytes, built, rows, past);
    const last = logits.subarray(logits.length - vocab);
    const next = last.indexOf(Math.max(...last));
    tokens.push(next);
    rows = [[next]];
    past = Object.fromEntries(Object.entries(out).filter(([k]) => k.startsWith('present.')));
  }
  return tokens;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe.each(forms)('builder form of PyTorch’s tiny Llama (%s)', (_label, built) => {
  it('MoR (PyTorch reference adapter): prompt logits equal PyTorch’s within 1e-4; greedy tokens equal', async () => {
    const mor = await loadAdapter(fixture('tiny-llama-kv/mor-adapter'));
    const bytes = adapted(built, mor);
    const { logits } = await forward(bytes, built, [kvGolden.prompt_ids]);
    expect(maxDiff(logits, kvGolden.prompt_logits_mor.data)).toBeLessThan(1e-4);
    expect(await greedy(bytes, built, kvGolden.prompt_ids, 12)).toEqual(kvGolden.greedy_mor);
    expect(await greedy(built.onnx, built, kvGolden.prompt_ids, 12)).toEqual(kvGolden.greedy_base);
  });

  it('a PEFT LoRA on q_proj and v_proj (saved by PEFT): logits equal PEFT’s within 1e-4', async () => {
    const lora = await loadAdapter(fixture('tiny-llama/peft-lora'));
    const { logits } = await forward(adapted(built, lora), built, golden.input_ids);
    expect(maxDiff(logits, golden.logits_peft_lora.data)).toBeLessThan(1e-4);
  });

  it('one SGD step (TrainSession) equals PyTorch’s step (mor-adapter-sgd1) within 1e-5', async () => {
    const adapter = await loadAdapter(fixture('tiny-llama/mor-adapter'));
    const session = await TrainSession.create({
      model: built.onnx,
      task: 'causal-lm',
      method: 'mor',
      adapter,
      optimizer: { kind: 'sgd', lr: 0.05 },
    });
    try {
      const loss = await session.step(lmBatch(goldenRows()), { lr: 0.05 });
      expect(Math.abs(loss.loss - golden.loss_mor)).toBeLessThan(1e-5);
      const expected = await loadAdapter(fixture('tiny-llama/mor-adapter-sgd1'));
      expect(maxAdapterDiff(await session.getAdapter(), expected)).toBeLessThan(1e-5);
    } finally {
      await session.dispose();
    }
  });
});
