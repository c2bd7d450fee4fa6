import { adamwReference, sgdReference } from '@mor/onnx';
import type { Adapter } from '@mor/format';
import { loadAdapter } from '@mor/format/node';
import { describe, expect, it } from 'vitest';
import { TrainSession, type TrainSessionOptions } from '../../src/train/index.js';
import { adapterTensors, fixture, goldenRows, lmBatch, maxAdapterDiff, tinyLlamaBytes } from './helpers.js';

const base = (adapter: Adapter, extra: Partial<TrainSessionOptions> = {}): TrainSessionOptions => ({
  model: tinyLlamaBytes(),
  task: 'causal-lm',
  method: 'mor',
  adapter,
  optimizer: { kind: 'sgd', lr: 0 },
  ...extra,
});

/** Raw gradients at `adapter` from a separate session (SGD with lr 0 leaves the weights as they are). */
async function gradientsAt(adapter: Adapter, rows: number[][]): Promise<Record<string, Float32Array>> {
  const s = await TrainSession.create(base(adapter, { outputGradients: true }));
  try {
    return (await s.step(lmBatch(rows), { lr: 0 })).gradients!;
  } finally {
    await s.dispose();
  }
}

/** Adapter tensors by parameter name (`mor.<module>.<tensor>`), as the train graph names them. */
const byParam = (a: Adapter) => new Map([...adapterTensors(a)].map(([k, v]) => [`mor.${k}`, v]));

describe('TrainSession optimizers', () => {
  it('AdamW over 3 steps equals adamwReference applied to gradients from a gradient-only session', async () => {
    const rows = goldenRows();
    const hyper = { lr: 0.01, beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1 };
    const adapter = await loadAdapter(fixture('tiny-llama/mor-adapter'));
    const s = await TrainSession.create(
      base(adapter, {
        optimizer: { kind: 'adamw', lr: 0.01, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.1 },
      }),
    );
    let params: Map<string, Float32Array> = byParam(adapter);
    const moments = new Map<string, { m: Float32Array; v: Float32Array }>(
      [...params].map(([k, v]) => [k, { m: new Float32Array(v.length), v: new Float32Array(v.length) }]),
    );
    let current = adapter;
    for (let t = 1; t <= 3; t++) {
      const grads = await gradientsAt(current, rows);
      await s.step(lmBatch(rows), { lr: hyper.lr });
      const next = new Map<string, Float32Array>();
      for (const [name, p] of params) {
        const st = moments.get(name)!;
        const r = adamwReference(p, grads[name]!, st.m, st.v, t, hyper);
        moments.set(name, { m: r.m, v: r.v });
        next.set(name, r.param);
      }
      params = next;
      current = await s.getAdapter();
      let max = 0;
      for (const [name, v] of byParam(current)) {
        const ref = params.get(name)!;
        for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]! - ref[i]!));
      }
      expect(max, `step ${t}`).toBeLessThan(2e-5);
    }
    const state = await s.getOptimizerState();
    expect(state.step).toBe(3);
    const m = state.tensors['opt.m.mor.model.layers.0.mlp.gate_proj.A']!;
    expect(
      Math.max(
        ...m.data.map((x, i) => Math.abs(x - moments.get('mor.model.layers.0.mlp.gate_proj.A')!.m[i]!)),
      ),
    ).toBeLessThan(1e-6);
    await s.dispose();
  });

  it('SGD with momentum and weight decay follows sgdReference for 2 steps', async () => {
    const rows = goldenRows();
    const adapter = await loadAdapter(fixture('tiny-llama/mor-adapter'));
    const s = await TrainSession.create(
      base(adapter, { optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0.01 } }),
    );
    let params: Map<string, Float32Array> = byParam(adapter);
    let buffers = new Map<string, Float32Array>([...params].map(([k, v]) => [k, new Float32Array(v.length)]));
    let current = adapter;
    for (let t = 0; t < 2; t++) {
      const grads = await gradientsAt(current, rows);
      await s.step(lmBatch(rows), { lr: 0.1 });
      const step = [...params].map(
        ([k, p]) =>
          [
            k,
            sgdReference(p, grads[k]!, buffers.get(k)!, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }),
          ] as const,
      );
      params = new Map<string, Float32Array>(step.map(([k, r]) => [k, r.param]));
      buffers = new Map<string, Float32Array>(step.map(([k, r]) => [k, r.buffer]));
      current = await s.getAdapter();
    }
    for (const [name, v] of byParam(current))
      v.forEach((x, i) => expect(Math.abs(x - params.get(name)![i]!)).toBeLessThan(2e-5));
    await s.dispose();
  });

  it('gradient accumulation 2 × 1 row equals one batch of 2 rows (SGD), token-weighted', async () => {
    const rows = goldenRows();
    // Ignore some labels of the second row so the micro-batches carry different token counts.
    const second = lmBatch([rows[1]!]);
    second.labels.fill(-100n, 5);
    const both = lmBatch(rows);
    both.labels.fill(-100n, 8 + 5);
    const adapter = await loadAdapter(fixture('tiny-llama/mor-adapter'));
    const one = await TrainSession.create(base(adapter, { optimizer: { kind: 'sgd', lr: 0.05 } }));
    await one.step(both, { lr: 0.05 });
    const acc = await TrainSession.create(
      base(adapter, { optimizer: { kind: 'sgd', lr: 0.05 }, gradAccum: 2 }),
    );
    const first = await acc.step(lmBatch([rows[0]!]), { lr: 0.05 });
    expect(first.updated).toBe(false);
    expect(acc.stepCount).toBe(0);
    expect(maxAdapterDiff(await acc.getAdapter(), adapter)).toBe(0);
    const last = await acc.step(second, { lr: 0.05 });
    expect([first.tokens, last.tokens, last.updated, acc.stepCount]).toEqual([7, 4, true, 1]);
    expect(maxAdapterDiff(await acc.getAdapter(), await one.getAdapter())).toBeLessThan(1e-6);
    await Promise.all([one.dispose(), acc.dispose()]);
  });

  it('gradient accumulation works with AdamW too: 2 × 1 row (two steps) equals batches of 2 rows', async () => {
    const rows = goldenRows();
    const adapter = await loadAdapter(fixture('tiny-llama/mor-adapter'));
    const adamw = { kind: 'adamw' as const, lr: 0.01 };
    const one = await TrainSession.create(base(adapter, { optimizer: adamw }));
    const acc = await TrainSession.create(base(adapter, { optimizer: adamw, gradAccum: 2 }));
    for (let step = 0; step < 2; step++) {
      await one.step(lmBatch(rows), { lr: 0.01 });
      expect((await acc.step(lmBatch([rows[0]!]), { lr: 0.01 })).updated).toBe(false);
      expect((await acc.step(lmBatch([rows[1]!]), { lr: 0.01 })).updated).toBe(true);
    }
    expect(acc.stepCount).toBe(2);
    expect(maxAdapterDiff(await acc.getAdapter(), adapter)).toBeGreaterThan(1e-3);
    expect(maxAdapterDiff(await acc.getAdapter(), await one.getAdapter())).toBeLessThan(1e-5);
    await Promise.all([one.dispose(), acc.dispose()]);
  });

  it('resumes: save adapter + optimizer state after 1 AdamW step, restore, step again = 2 steps straight', async () => {
    const rows = goldenRows();
    const adapter = await loadAdapter(fixture('tiny-llama/mor-adapter'));
    const opts = base(adapter, { optimizer: { kind: 'adamw', lr: 0.01, maxGradNorm: 0.5 } });
    const straight = await TrainSession.create(opts);
    const r1 = await straight.step(lmBatch(rows), { lr: 0.01 });
    expect(r1.gradNorm).toBeGreaterThan(0);
    const saved = { adapter: await straight.getAdapter(), state: await straight.getOptimizerState() };
    await straight.step(lmBatch(rows), { lr: 0.01 });
    const resumed = await TrainSession.create({ ...opts, adapter: saved.adapter });
    await resumed.setOptimizerState(saved.state);
    expect(resumed.stepCount).toBe(1);
    await resumed.step(lmBatch(rows), { lr: 0.01 });
    expect(maxAdapterDiff(await resumed.getAdapter(), await straight.getAdapter())).toBeLessThan(1e-6);
    await expect(resumed.setOptimizerState({ step: 1, tensors: {} })).rejects.toThrow(/missing: opt\.m\./);
    await Promise.all([straight.dispose(), resumed.dispose()]);
  });
});
