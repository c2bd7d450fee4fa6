import { fromBinary } from '@bufbuild/protobuf';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelProtoSchema, type ModelProto } from 'onnx-buf';
import ort from 'onnxruntime-node';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import { writeModelDir, type BuiltModel } from '../src/index.js';

export function decode(built: BuiltModel): ModelProto {
  return fromBinary(ModelProtoSchema, built.onnx);
}

/** A temp root used as transformers.js' `localModelPath`; `dispose` removes it. */
export function tempModelRoot(): { root: string; dispose: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'mor-model-builder-'));
  return { root, dispose: () => rmSync(root, { recursive: true, force: true }) };
}

/** Write `built` under `root/name` and point transformers.js at `root`, offline. */
export async function installModel(root: string, name: string, built: BuiltModel): Promise<string> {
  await writeModelDir(join(root, name), built);
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = root;
  return name;
}

const i64 = (rows: number[][]) =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);

/** HF's position ids for a left-padded batch: cumsum(mask) - 1, with 1 at padded slots. */
export function positionsFromMask(mask: number[][], past = 0): number[][] {
  return mask.map((row) => {
    let c = -1;
    return row.map((m) => (m ? ++c : 1)).slice(past);
  });
}

/** Logits `[batch, seq, vocab]` (flat) of one forward with an optional KV cache; presents are returned too. */
export async function decoderForward(
  session: ort.InferenceSession,
  built: BuiltModel,
  ids: number[][],
  mask: number[][],
  past?: Record<string, ort.Tensor>,
): Promise<{ logits: Float32Array; dims: readonly number[]; presents: Record<string, ort.Tensor> }> {
  const feeds: Record<string, ort.Tensor> = { input_ids: i64(ids), attention_mask: i64(mask) };
  const names = session.inputNames;
  if (names.includes('position_ids'))
    feeds.position_ids = i64(positionsFromMask(mask, mask[0]!.length - ids[0]!.length));
  if (names.includes('token_type_ids')) feeds.token_type_ids = i64(ids.map((r) => r.map(() => 0)));
  const c = built.cache;
  for (let i = 0; c && i < c.layers; i++) {
    for (const kind of ['key', 'value']) {
      const name = `past_key_values.${i}.${kind}`;
      feeds[name] =
        past?.[`present.${i}.${kind}`] ??
        new ort.Tensor('float32', new Float32Array(0), [ids.length, c.kvHeads, 0, c.headDim]);
    }
  }
  const out = await session.run(feeds);
  const presents = Object.fromEntries(Object.entries(out).filter(([k]) => k.startsWith('present.')));
  return { logits: out.logits!.data as Float32Array, dims: out.logits!.dims, presents };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function argmax(a: ArrayLike<number>, from: number, len: number): number {
  let best = from;
  for (let i = from; i < from + len; i++) if (a[i]! > a[best]!) best = i;
  return best - from;
}

/** Row `pos` of batch item `b` of flat logits `[batch, seq, vocab]`. */
export function row(logits: Float32Array, dims: readonly number[], b: number, pos: number): Float32Array {
  const [, seq, vocab] = dims as [number, number, number];
  return logits.subarray((b * seq + pos) * vocab, (b * seq + pos + 1) * vocab);
}

/**
 * Greedy generation through transformers.js (KV cache), then the same continuation recomputed without a cache:
 * for every new token, a full-sequence forward of prompt + tokens so far must pick that token.
 */
export async function checkGenerationAgainstRecompute(
  root: string,
  name: string,
  built: BuiltModel,
  prompt: string,
  newTokens: number,
): Promise<{ generated: number[]; text: string }> {
  await installModel(root, name, built);
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  const model = await AutoModelForCausalLM.from_pretrained(name, { dtype: 'fp32' });
  try {
    const enc = tokenizer(prompt);
    const out = await model.generate({ ...enc, max_new_tokens: newTokens, do_sample: false });
    const all = (out as unknown as { tolist(): bigint[][] }).tolist()[0]!.map(Number);
    const promptIds = (enc.input_ids.tolist() as bigint[][])[0]!.map(Number);
    const generated = all.slice(promptIds.length);
    const session = await ort.InferenceSession.create(built.onnx);
    const recomputed: number[] = [];
    for (let t = 0; t < generated.length; t++) {
      const ids = [...promptIds, ...generated.slice(0, t)];
      const { logits, dims } = await decoderForward(session, built, [ids], [ids.map(() => 1)]);
      const vocab = dims[2]!;
      recomputed.push(argmax(logits, (ids.length - 1) * vocab, vocab));
    }
    await session.release();
    if (recomputed.join() !== generated.join()) {
      throw new Error(`KV-cache generation ${generated} differs from full recompute ${recomputed}`);
    }
    return { generated, text: tokenizer.decode(generated) };
  } finally {
    await model.dispose();
  }
}
