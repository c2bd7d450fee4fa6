import type { Adapter } from '@mor/format';
import { buildLlama, buildLlamaBuilderForm, convertFloatType, toDtype } from '@mor/model-builder';
import { decodeModel, encodeModelBytes } from '@mor/onnx';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { GradScaler } from '../../src/train/grad-scaler.js';
import { TrainSession, type TrainSessionOptions } from '../../src/train/index.js';
import { transformersOrt } from '../../src/ort-module.js';
import { adapterTensors, maxAdapterDiff, webgpuSkipReason } from './helpers.js';
import { q4Twin } from '@mor/model-builder';
import { randomBatch, randomMorAdapter } from './tiny-models.js';

// Training through a frozen float16 base (fp16 / q4f16 files): the base's forward and backward run in float16,
// the loss in float32 (from a Cast of the logits), the adapter's master weights and gradients in float32, with
// dynamic loss scaling. One update must match the update on the float32 twin (float16-rounded weights; q4f16:
// MatMulNBits dequantized) within 1e-2 relative, cosine ≥ 0.999. The CPU EP runs these graphs (float16 tensors
// throughout; its arithmetic kernels compute in float32 between casts onnxruntime inserts, its data-movement, norm,
// MatMulNBits and RotaryEmbedding kernels in float16); WebGPU on SwiftShader has no shader-f16
// (docs/architecture.md, "Float16 forms").

const fp32 = buildLlama({ hidden: 64, layers: 2, withoutKvCache: true, seed: 4 });
async function form(dtype: 'fp16' | 'q4f16', base = fp32) {
  const m = await decodeModel(base.onnx);
  toDtype(m, dtype);
  const half = encodeModelBytes(m);
  convertFloatType(m, 'float32');
  return { half, twin: await q4Twin(encodeModelBytes(m)) };
}
const targets = ['q_proj', 'v_proj', 'down_proj'];

/** Why float16 cannot train on WebGPU here, or null: no WebGPU at all, or an adapter without `shader-f16`. */
async function float16WebgpuSkipReason(): Promise<string | null> {
  const none = webgpuSkipReason();
  if (none) return none;
  const ort = await transformersOrt();
  try {
    const s = await ort.InferenceSession.create((await form('fp16')).half, {
      executionProviders: ['webgpu'],
    });
    const ids = new ort.Tensor('int64', BigInt64Array.of(1n, 2n) as never, [1, 2]);
    await s.run({
      input_ids: ids,
      attention_mask: new ort.Tensor('int64', BigInt64Array.of(1n, 1n) as never, [1, 2]),
    });
    await s.release();
    return null;
  } catch (e) {
    const m = String((e as Error).message);
    if (/requires f16/.test(m))
      return 'the WebGPU adapter has no shader-f16 (SwiftShader): float16 kernels fail to run';
    throw e;
  }
}
const webgpuSkip = await float16WebgpuSkipReason();

/** Why float16 cannot train on WASM (onnxruntime-web lacks a kernel the train graph needs), or null. */
async function float16WasmSkipReason(dtype: 'fp16' | 'q4f16'): Promise<string | null> {
  try {
    const s = await TrainSession.create({
      model: (await form(dtype)).half,
      task: 'causal-lm',
      method: 'mor',
      adapter,
      optimizer: { kind: 'sgd', lr: 0.5 },
      device: 'wasm',
      ort: ortWeb as unknown as TrainSessionOptions['ort'],
    });
    await s.dispose();
    return null;
  } catch (e) {
    const m = String((e as Error).message);
    if (/Could not find an implementation/.test(m))
      return `onnxruntime-web's WASM has no float16 kernel the train graph needs: ${m.split('\n')[0]}`;
    throw e;
  }
}
const adapter = randomMorAdapter(fp32, { r: 2, experts: 2, targets });
const batch = randomBatch(2, 10, 300, undefined, 5);
ortWeb.env.wasm.numThreads = 1; // no worker threads in Node
const wasmSkip = {
  fp16: await float16WasmSkipReason('fp16'),
  q4f16: await float16WasmSkipReason('q4f16'),
};

async function steps(model: Uint8Array, o: Partial<TrainSessionOptions>, n = 1) {
  const s = await TrainSession.create({
    model,
    task: 'causal-lm',
    method: 'mor',
    adapter,
    optimizer: { kind: 'sgd', lr: 0.5 },
    ...o,
  } as TrainSessionOptions);
  const results = [];
  for (let i = 0; i < n; i++) results.push(await s.step(batch, { lr: 0.5 }));
  const trained = await s.getAdapter();
  const state = await s.getOptimizerState();
  await s.dispose();
  return { results, trained, state };
}

/** The update (trained − initial) of `a` against `b`'s: max |Δa − Δb| / max |Δb| and cosine of the two. */
function compareUpdates(a: Adapter, b: Adapter, initial: Adapter = adapter) {
  const [ta, tb, t0] = [adapterTensors(a), adapterTensors(b), adapterTensors(initial)];
  let [dot, na, nb, diff, size] = [0, 0, 0, 0, 0];
  for (const [k, x] of ta) {
    const [y, z] = [tb.get(k)!, t0.get(k)!];
    for (let i = 0; i < x.length; i++) {
      const [u, v] = [x[i]! - z[i]!, y[i]! - z[i]!];
      dot += u * v;
      na += u * u;
      nb += v * v;
      diff = Math.max(diff, Math.abs(u - v));
      size = Math.max(size, Math.abs(v));
    }
  }
  return { rel: diff / size, cos: dot / Math.sqrt(na * nb), size };
}

describe('training through a float16 base (loss in float32, loss scaling)', () => {
  it.each(['fp16', 'q4f16'] as const)(
    '%s: one SGD step within 1e-2 relative of the float32 twin’s, cosine ≥ 0.999 (CPU)',
    async (dtype) => {
      const { half, twin } = await form(dtype);
      const [h, f] = [await steps(half, {}), await steps(twin, {})];
      expect(h.results[0]!.lossScale).toBe(2 ** 16); // on by default for a float16 model
      expect(f.results[0]!.lossScale).toBeUndefined(); // off for float32
      expect(Math.abs(h.results[0]!.loss - f.results[0]!.loss) / f.results[0]!.loss).toBeLessThan(1e-3);
      const { rel, cos, size } = compareUpdates(h.trained, f.trained);
      expect(size).toBeGreaterThan(1e-3); // the step moved the adapter
      expect(rel).toBeLessThan(1e-2);
      expect(cos).toBeGreaterThanOrEqual(0.999);
    },
  );

  it.each([
    ['fp16', 'in-attention'],
    ['fp16', 'separate'],
    ['q4f16', 'in-attention'],
  ] as const)(
    'builder form (GroupQueryAttention, RotaryEmbedding, SkipSimplifiedLayerNorm) %s, rotary %s: one SGD step within 1e-2 relative of the float32 twin’s',
    async (dtype, rotary) => {
      // q4f16 builder graphs: the q4 builder form (symmetric MatMulNBits, GatherBlockQuantized) made float16.
      const bf = buildLlamaBuilderForm({
        seed: 21,
        rotary,
        ...(dtype === 'q4f16' ? { quantize: 'q4' } : {}),
      });
      const m = await decodeModel(bf.onnx);
      convertFloatType(m, 'float16');
      const half = encodeModelBytes(m);
      convertFloatType(m, 'float32');
      const twin = q4Twin(encodeModelBytes(m));
      const a = randomMorAdapter(bf, { r: 2, experts: 2, targets });
      const [h, f] = [await steps(half, { adapter: a }), await steps(twin, { adapter: a })];
      expect(h.results[0]!.skipped).toBeUndefined();
      const { rel, cos, size } = compareUpdates(h.trained, f.trained, a);
      expect(size).toBeGreaterThan(1e-3);
      expect(rel).toBeLessThan(1e-2);
      expect(cos).toBeGreaterThanOrEqual(0.999);
    },
  );

  it.skipIf(webgpuSkip !== null)(
    `fp16 on WebGPU: one SGD step within 1e-2 relative of the float32 twin’s on CPU${webgpuSkip ? ` (skipped: ${webgpuSkip})` : ''}`,
    async () => {
      const { half, twin } = await form('fp16');
      const [h, f] = [await steps(half, { device: 'webgpu' }), await steps(twin, {})];
      const { rel, cos } = compareUpdates(h.trained, f.trained);
      expect(rel).toBeLessThan(1e-2);
      expect(cos).toBeGreaterThanOrEqual(0.999);
    },
  );

  // WASM: onnxruntime-web in Node (the build the browser loads), handed to TrainSession as `ort`; the twin steps on
  // the same backend.
  for (const dtype of ['fp16', 'q4f16'] as const) {
    const skip = wasmSkip[dtype];
    it.skipIf(skip !== null)(
      `${dtype} on WASM (onnxruntime-web): one SGD step within 1e-2 relative of the float32 twin’s there, cosine ≥ 0.999${skip ? ` (skipped: ${skip})` : ''}`,
      async () => {
        const { half, twin } = await form(dtype);
        const wasm = { device: 'wasm', ort: ortWeb as unknown as TrainSessionOptions['ort'] };
        const [h, f] = [await steps(half, wasm), await steps(twin, wasm)];
        expect(h.results[0]!.lossScale).toBe(2 ** 16);
        expect(h.results[0]!.skipped).toBeUndefined();
        expect(Math.abs(h.results[0]!.loss - f.results[0]!.loss) / f.results[0]!.loss).toBeLessThan(1e-3);
        const { rel, cos, size } = compareUpdates(h.trained, f.trained);
        expect(size).toBeGreaterThan(1e-3);
        expect(rel).toBeLessThan(1e-2);
        expect(cos).toBeGreaterThanOrEqual(0.999);
      },
    );
  }

  it('a step whose gradients overflow float16 is skipped: parameters and AdamW state unchanged, the scale backs off, finite steps grow it', async () => {
    const { half } = await form('fp16');
    const adamw = { kind: 'adamw', lr: 0.5 } as const;
    // 2^40 · dL/dlogits is far past float16's 65504: the float16 backward overflows to inf.
    const o = { optimizer: adamw, lossScaling: { initScale: 2 ** 40, growthInterval: 2 } };
    const over = await steps(half, o, 1);
    expect(over.results[0]).toMatchObject({ updated: true, skipped: true, lossScale: 2 ** 40 });
    expect(maxAdapterDiff(over.trained, adapter)).toBe(0); // bit-identical
    expect(over.state.step).toBe(0);
    for (const t of Object.values(over.state.tensors)) expect(t.data.every((v) => v === 0)).toBe(true);
    // Backing off by 0.5 a step: 2^40 … 2^23 overflow (the dlogits of this batch ~1e-3 times 2^k > 65504), then
    // finite steps apply and, every 2 in a row, double the scale.
    const run = await steps(half, o, 24);
    const scales = run.results.map((r) => r.lossScale);
    const skipped = run.results.map((r) => r.skipped === true);
    const firstApplied = skipped.indexOf(false);
    expect(firstApplied).toBeGreaterThan(0);
    expect(scales.slice(0, firstApplied + 1)).toEqual(
      Array.from({ length: firstApplied + 1 }, (_, i) => 2 ** (40 - i)),
    );
    expect(run.state.step).toBe(skipped.filter((s) => !s).length);
    const twoFinite = skipped.findIndex((s, i) => !s && skipped[i + 1] === false);
    expect(twoFinite).toBeGreaterThan(0);
    expect(scales[twoFinite + 2]).toBe(2 * scales[twoFinite + 1]!); // growthInterval 2
    expect(maxAdapterDiff(run.trained, adapter)).toBeGreaterThan(1e-3);
  });

  it('a resumed run scales, skips and updates as the uninterrupted one (the scaler state is in the optimizer state)', async () => {
    const { half } = await form('fp16');
    const o = {
      optimizer: { kind: 'adamw', lr: 0.05 },
      lossScaling: { initScale: 2 ** 25, growthInterval: 2 },
    } as const;
    const open = (a: Adapter) =>
      TrainSession.create({
        model: half,
        task: 'causal-lm',
        method: 'mor',
        adapter: a,
        ...o,
      } as TrainSessionOptions);
    const run = async (s: TrainSession, n: number) => {
      const out = [];
      for (let i = 0; i < n; i++) out.push(await s.step(batch, { lr: 0.05 }));
      return out;
    };
    const whole = await open(adapter);
    const all = await run(whole, 8);
    const final = await whole.getAdapter();
    await whole.dispose();
    expect(all.some((r) => r.skipped)).toBe(true);
    expect(all.some((r) => !r.skipped)).toBe(true);
    const first = await open(adapter);
    const head = await run(first, 4);
    const [midAdapter, midState] = [await first.getAdapter(), await first.getOptimizerState()];
    await first.dispose();
    expect(midState.lossScale).toEqual(expect.objectContaining({ scale: all[4]!.lossScale }));
    const second = await open(midAdapter);
    await second.setOptimizerState(midState);
    const tail = await run(second, 4);
    const resumed = await second.getAdapter();
    await second.dispose();
    expect([...head, ...tail].map((r) => [r.lossScale, r.skipped])).toEqual(
      all.map((r) => [r.lossScale, r.skipped]),
    );
    expect(maxAdapterDiff(resumed, final)).toBe(0);
  });

  it('loss scaling keeps small float16 gradients: without it they underflow (vocab 16384, 8×128 tokens)', async () => {
    // dL/dlogits ≈ p/N: here ~1/(16384·1024) ≈ 6e-8, float16's smallest subnormal; scaled by 2^16 it is normal.
    const vocab = 16384;
    const big = buildLlama({ hidden: 64, layers: 2, withoutKvCache: true, seed: 4, vocab });
    const { half, twin } = await form('fp16', big);
    const a = randomMorAdapter(big, { r: 2, experts: 2, targets });
    const rows = randomBatch(8, 128, vocab - 1, undefined, 5);
    const grads = async (model: Uint8Array, o: Partial<TrainSessionOptions>) => {
      const s = await TrainSession.create({
        model,
        task: 'causal-lm',
        method: 'mor',
        adapter: a,
        optimizer: { kind: 'sgd', lr: 1 },
        outputGradients: true,
        ...o,
      } as TrainSessionOptions);
      const r = await s.step(rows, { lr: 1 });
      await s.dispose();
      return r.gradients!;
    };
    const ref = await grads(twin, {});
    const relErr = (g: Record<string, Float32Array>) => {
      let [d, m] = [0, 0];
      for (const [k, x] of Object.entries(g))
        x.forEach((v, i) => {
          d = Math.max(d, Math.abs(v - ref[k]![i]!));
          m = Math.max(m, Math.abs(ref[k]![i]!));
        });
      return d / m;
    };
    const [off, on] = [relErr(await grads(half, { lossScaling: false })), relErr(await grads(half, {}))];
    // Measured: 3.8e-3 without, 4.9e-4 with.
    expect(on).toBeLessThan(1e-3);
    expect(off).toBeGreaterThan(3 * on);
  });

  it('method "full" on a float16 model is refused with the reason', async () => {
    const { half } = await form('fp16');
    await expect(
      TrainSession.create({
        model: half,
        task: 'causal-lm',
        method: 'full',
        fullTargets: ['lm_head'],
        optimizer: { kind: 'sgd', lr: 0.1 },
      } as TrainSessionOptions),
    ).rejects.toThrow('method "full" trains base weights, and this model computes in float16');
  });

  it('GradScaler: backoff on overflow, growth after growthInterval finite steps in a row, bad options refused', () => {
    const s = new GradScaler({ initScale: 8, growthInterval: 3 });
    const seen: number[] = [];
    for (const inf of [false, false, true, false, false, false, false]) {
      s.update(inf);
      seen.push(s.scale);
    }
    expect(seen).toEqual([8, 8, 4, 4, 4, 8, 8]);
    expect(s.getState()).toEqual({ scale: 8, growthTracker: 1 });
    expect(() => new GradScaler({ backoffFactor: 1 })).toThrow(
      'loss scaling: backoffFactor must be in (0, 1), got 1',
    );
    expect(() => new GradScaler({ initScale: 0 })).toThrow('initScale must be a finite number > 0');
  });
});
