import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Adapter } from '@mor/format';
import type { TrainBatch } from '../../src/train/index.js';

/** A file under the repository's fixtures/ (PyTorch goldens, see fixtures/README.md). */
export const fixture = (rel: string) =>
  fileURLToPath(new URL(`../../../../fixtures/${rel}`, import.meta.url));

export const tinyLlamaBytes = () => new Uint8Array(readFileSync(fixture('tiny-llama/onnx/model.onnx')));

export interface TinyLlamaGolden {
  loss_mor: number;
  loss_after_sgd1: number;
}

export const golden = (): TinyLlamaGolden =>
  JSON.parse(readFileSync(fixture('tiny-llama/golden.json'), 'utf8')) as TinyLlamaGolden;

/** Causal-LM batch of equal-length rows: mask all ones, labels = input ids (the loss shifts). */
export function lmBatch(rows: number[][]): TrainBatch {
  const ids = BigInt64Array.from(rows.flat(), BigInt);
  return {
    inputIds: ids,
    attentionMask: new BigInt64Array(ids.length).fill(1n),
    labels: ids.slice(),
    batchSize: rows.length,
    seqLength: rows[0]!.length,
  };
}

/** The two rows of fixtures/tiny-llama/golden_data.jsonl (pre-tokenized, 8 tokens each). */
export function goldenRows(): number[][] {
  return readFileSync(fixture('tiny-llama/golden_data.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { input_ids: number[] }).input_ids);
}

/** Every tensor of an adapter by `<module>.<name>`. */
export function adapterTensors(a: Adapter): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [module, w] of a.layers)
    for (const [k, v] of Object.entries(w)) if (v instanceof Float32Array) out.set(`${module}.${k}`, v);
  return out;
}

/** Largest |a − b| over every tensor of two adapters with the same layers (throws on a mismatch of names). */
export function maxAdapterDiff(a: Adapter, b: Adapter): number {
  const [ta, tb] = [adapterTensors(a), adapterTensors(b)];
  if ([...ta.keys()].sort().join() !== [...tb.keys()].sort().join())
    throw new Error('adapters differ in tensors');
  let max = 0;
  for (const [k, x] of ta) {
    const y = tb.get(k)!;
    if (x.length !== y.length) throw new Error(`${k}: ${x.length} vs ${y.length} values`);
    for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]! - y[i]!));
  }
  return max;
}

/** Why the WebGPU tests cannot run here, or null (one check for every package's tests). */
export { webgpuSkipReason } from '@mor/model-builder';
