import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { applyAdapter, type AdapterInput, type ApplyAdapterOptions } from '@mor/onnx';
import { ModelProtoSchema } from 'onnx-buf';
import ort from 'onnxruntime-node';
import { expect } from 'vitest';
import type { BuiltModel } from '../src/index.js';
import { argmax, decoderForward, maxAbsDiff } from './helpers.js';

// Adapted copies of built models and the two comparisons the builder-form tests make: logits (prefill and one
// cached step) and greedy tokens.

/** `built` with `adapter` applied (every adapter module must land on a layer). */
export function patched(built: BuiltModel, adapter: AdapterInput, o: ApplyAdapterOptions = {}): BuiltModel {
  const model = fromBinary(ModelProtoSchema, built.onnx);
  const r = applyAdapter(model, adapter, o);
  expect(r.layers.size).toBe(adapter.layers.size);
  return { ...built, onnx: toBinary(ModelProtoSchema, model) };
}

/** Greedy tokens of `steps` cached decode steps after a prefill (the loop transformers.js runs). */
export async function greedy(built: BuiltModel, prompt: number[], steps: number): Promise<number[]> {
  const s = await ort.InferenceSession.create(built.onnx);
  const out: number[] = [];
  let ids = [prompt];
  let past: Record<string, ort.Tensor> | undefined;
  for (let t = 0; t < steps; t++) {
    const total = prompt.length + t;
    const r = await decoderForward(s, built, ids, [Array.from({ length: total }, () => 1)], past);
    const vocab = r.dims[2]!;
    const next = argmax(r.logits, (ids[0]!.length - 1) * vocab, vocab);
    out.push(next);
    ids = [[next]];
    past = r.presents;
  }
  await s.release();
  return out;
}

export async function logitsPair(a: BuiltModel, b: BuiltModel): Promise<[number, number]> {
  const [sa, sb] = [await ort.InferenceSession.create(a.onnx), await ort.InferenceSession.create(b.onnx)];
  const ids = [[1, 60, 61, 62, 63, 64]];
  const mask = [ids[0]!.map(() => 1)];
  const [pa, pb] = [await decoderForward(sa, a, ids, mask), await decoderForward(sb, b, ids, mask)];
  const next = [[1, ...ids[0]!].map(() => 1)];
  const [da, db] = [
    await decoderForward(sa, a, [[70]], next, pa.presents),
    await decoderForward(sb, b, [[70]], next, pb.presents),
  ];
  await Promise.all([sa.release(), sb.release()]);
  return [maxAbsDiff(pa.logits, pb.logits), maxAbsDiff(da.logits, db.logits)];
}

/**
 * `adapter` applied to `reference` and to `other` (another graph form of the same weights) gives the same logits
 * within 1e-4 (prefill and one cached step), and it does change `reference`'s logits (an identity adapter would
 * pass the comparison trivially).
 */
export async function expectSameAdaptedLogits(
  reference: BuiltModel,
  other: BuiltModel,
  adapter: AdapterInput,
  o: ApplyAdapterOptions = {},
): Promise<void> {
  const [prefill, step] = await logitsPair(patched(reference, adapter, o), patched(other, adapter, o));
  expect(prefill).toBeLessThan(1e-4);
  expect(step).toBeLessThan(1e-4);
  const [moved] = await logitsPair(reference, patched(reference, adapter, o));
  expect(moved).toBeGreaterThan(1e-2);
}
