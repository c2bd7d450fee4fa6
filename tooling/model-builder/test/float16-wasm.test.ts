import { applyAdapter, decodeModel, encodeModelBytes, halfToFloat, type ModelProto } from '@mor/onnx';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildLlama, convertFloatType, q4Twin, randomMorAdapter, toDtype } from '../src/index.js';
import { open } from './backends.js';
import { argmax } from './helpers.js';

// The float16 forms (fp16, q4f16) on WASM: onnxruntime-web in Node, the build the browser loads. A MoR adapter is
// applied as the library applies it to a float16 graph (a float32 branch between Casts); its prompt logits must be
// within 1e-2 relative of the float32 twin's (float16-rounded weights; q4f16: MatMulNBits dequantized) with the same
// adapter, on the same backend, and greedy decoding through the KV cache (float16 past_key_values fed back) must
// give the twin's tokens. If onnxruntime-web had no float16 kernel for an op of these graphs, session creation would
// fail naming it ("Could not find an implementation for …"): the test then skips with that message.

const fp32 = buildLlama({ seed: 7, layers: 2 });
const targets = ['q_proj', 'v_proj', 'o_proj', 'down_proj'];
const adapter = randomMorAdapter(
  fp32.linears.filter((l) => targets.some((t) => l.module.endsWith(`.${t}`))),
  { targets, r: 2, experts: 2, seed: 8 },
);
const prompt = [1, 60, 61, 62, 63, 70, 71];

/** The `dtype` form with the adapter applied, and its float32 twin with the same adapter. */
async function pair(dtype: 'fp16' | 'q4f16'): Promise<{ half: Uint8Array; twin: Uint8Array }> {
  const m = await decodeModel(fp32.onnx);
  toDtype(m, dtype);
  const twin = await decodeModel(encodeModelBytes(m));
  convertFloatType(twin, 'float32');
  const withAdapter = (model: ModelProto): Uint8Array => {
    applyAdapter(model, adapter);
    return encodeModelBytes(model);
  };
  return { half: withAdapter(m), twin: withAdapter(await decodeModel(q4Twin(encodeModelBytes(twin)))) };
}

const asFloat32 = (t: ort.Tensor): Float32Array =>
  t.type === 'float16' ? Float32Array.from(t.data as Uint16Array, halfToFloat) : (t.data as Float32Array);

/** One forward on `session` (WASM) with `past` (empty: a prefill), past_key_values in the graph's float type. */
async function forward(
  session: ort.InferenceSession,
  half: boolean,
  ids: number[],
  total: number,
  past?: Record<string, ort.Tensor>,
) {
  const { Tensor } = ort;
  const i64 = (v: number[]) => new Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: i64(ids),
    attention_mask: i64(Array.from({ length: total }, () => 1)),
    position_ids: i64(ids.map((_, i) => total - ids.length + i)),
  };
  const { kvHeads, headDim, layers } = fp32.cache!;
  const empty = half
    ? new Tensor('float16', new Uint16Array(0), [1, kvHeads, 0, headDim])
    : new Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]);
  for (let i = 0; i < layers; i++)
    for (const kind of ['key', 'value'])
      feeds[`past_key_values.${i}.${kind}`] = past?.[`present.${i}.${kind}`] ?? empty;
  const out = await session.run(feeds);
  const presents = Object.fromEntries(Object.entries(out).filter(([k]) => k.startsWith('present.')));
  return { logits: asFloat32(out.logits!), vocab: out.logits!.dims[2]!, presents };
}

/** Prompt logits and `steps` greedy tokens through the KV cache. */
async function run(bytes: Uint8Array, half: boolean, steps: number) {
  const s = await open(bytes, 'wasm');
  try {
    const first = await forward(s, half, prompt, prompt.length);
    const tokens: number[] = [];
    let r = first;
    for (let t = 0; t < steps; t++) {
      const next = argmax(r.logits, r.logits.length - r.vocab, r.vocab);
      tokens.push(next);
      r = await forward(s, half, [next], prompt.length + t + 1, r.presents);
    }
    return { logits: first.logits, tokens };
  } finally {
    await s.release();
  }
}

/** Why the float16 forms cannot run on WASM (onnxruntime-web lacks a kernel), or null. */
async function float16WasmSkipReason(dtype: 'fp16' | 'q4f16'): Promise<string | null> {
  try {
    const s = await open((await pair(dtype)).half, 'wasm');
    await s.release();
    return null;
  } catch (e) {
    const m = String((e as Error).message);
    if (/Could not find an implementation/.test(m))
      return `onnxruntime-web's WASM has no float16 kernel: ${m.split('\n')[0]}`;
    throw e;
  }
}
const skips = { fp16: await float16WasmSkipReason('fp16'), q4f16: await float16WasmSkipReason('q4f16') };

/** max |a − b| / max |b|: the acceptance measure for float16 forms. */
function relDiff(a: Float32Array, b: Float32Array): number {
  let [d, m] = [0, 0];
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

describe('float16 forms on WASM (onnxruntime-web in Node)', () => {
  for (const dtype of ['fp16', 'q4f16'] as const) {
    const skip = skips[dtype];
    it.skipIf(skip !== null)(
      `${dtype}, MoR applied (float32 branch between Casts): prompt logits within 1e-2 relative of the float32 twin's, greedy tokens through the float16 KV cache equal${skip ? ` (skipped: ${skip})` : ''}`,
      async () => {
        const { half, twin } = await pair(dtype);
        const [h, f] = [await run(half, true, 8), await run(twin, false, 8)];
        const rel = relDiff(h.logits, f.logits);
        expect(rel).toBeLessThan(1e-2);
        expect(rel).toBeGreaterThan(0); // really computed in float16
        expect(h.tokens).toEqual(f.tokens);
        expect(new Set(f.tokens).size).toBeGreaterThan(1); // not one token repeated
      },
    );
  }
});
