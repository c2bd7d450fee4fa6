import * as ort from 'onnxruntime-node';
import { TensorProto_DataType as DataType } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { buildTrainStep } from '../../src/autodiff/build-train-step.js';
import { addCausalLmLoss } from '../../src/autodiff/losses/causal-lm-loss.js';
import { sgdReference } from '../../src/autodiff/reference/sgd.js';
import { graph, modelBytes, node, rng } from './helpers/onnx-model.js';

const [B, T, D, H, V] = [2, 5, 6, 8, 7];
const F = DataType.FLOAT;

/** JS reference of the MLP LM: loss and gradients (relu(x·W1 + b1)·W2, shifted cross-entropy). */
function reference(x: Float32Array, p: Record<string, Float32Array>, labels: number[]) {
  const [W1, b1, W2] = [p.W1!, p.b1!, p.W2!];
  const g = { W1: new Float32Array(D * H), b1: new Float32Array(H), W2: new Float32Array(H * V) };
  const rows: { r: number; label: number }[] = [];
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T - 1; t++)
      if (labels[b * T + t + 1] !== -100) rows.push({ r: b * T + t, label: labels[b * T + t + 1]! });
  let loss = 0;
  for (const { r, label } of rows) {
    const h = Array.from({ length: H }, (_, j) =>
      Math.max(
        0,
        b1[j]! +
          Array.from({ length: D }, (_, k) => x[r * D + k]! * W1[k * H + j]!).reduce((s, v) => s + v, 0),
      ),
    );
    const z = Array.from({ length: V }, (_, c) => h.reduce((s, hj, j) => s + hj * W2[j * V + c]!, 0));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((s, v) => s + v, 0);
    loss += Math.log(sum) + m - z[label]!;
    const dz = e.map((v, c) => (v / sum - (c === label ? 1 : 0)) / rows.length);
    for (let j = 0; j < H; j++) {
      for (let c = 0; c < V; c++) g.W2[j * V + c]! += h[j]! * dz[c]!;
      const dh = h[j]! > 0 ? dz.reduce((s, d, c) => s + d * W2[j * V + c]!, 0) : 0;
      g.b1[j]! += dh;
      for (let k = 0; k < D; k++) g.W1[k * H + j]! += x[r * D + k]! * dh;
    }
  }
  return { loss: loss / rows.length, grads: g as Record<string, Float32Array> };
}

describe('end to end: MLP + causal-LM loss trained with SGD in one session.run per step', () => {
  it('reduces the loss and matches the JS reference gradient and update', async () => {
    const g = graph({
      nodes: [
        node('MatMul', ['x', 'W1'], ['xw']),
        node('Add', ['xw', 'b1'], ['pre']),
        node('Relu', ['pre'], ['h']),
        node('MatMul', ['h', 'W2'], ['logits']),
      ],
      inputs: [
        { name: 'x', type: F, dims: ['batch', 'seq', D] },
        { name: 'W1', type: F, dims: [D, H] },
        { name: 'b1', type: F, dims: [H] },
        { name: 'W2', type: F, dims: [H, V] },
      ],
      outputs: [{ name: 'logits', type: F }],
    });
    addCausalLmLoss(g, { logits: 'logits' });
    const step = buildTrainStep(g, { loss: 'loss', params: ['W1', 'b1', 'W2'], optimizer: { kind: 'sgd' } });
    const session = await ort.InferenceSession.create(modelBytes(g));
    const next = rng(11);
    const x = Float32Array.from({ length: B * T * D }, () => next());
    const labels = Array.from({ length: B * T }, (_, i) => (i % 4 === 2 ? -100 : Math.floor(next(0, V))));
    let params: Record<string, Float32Array> = {
      W1: Float32Array.from({ length: D * H }, () => next(-0.5, 0.5)),
      b1: Float32Array.from({ length: H }, () => next(-0.1, 0.1)),
      W2: Float32Array.from({ length: H * V }, () => next(-0.5, 0.5)),
    };
    const shapes: Record<string, number[]> = { W1: [D, H], b1: [H], W2: [H, V] };
    const lr = 0.5;
    const losses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const feeds: Record<string, ort.Tensor> = {
        x: new ort.Tensor('float32', x, [B, T, D]),
        labels: new ort.Tensor('int64', BigInt64Array.from(labels.map(BigInt)), [B, T]),
        lr: new ort.Tensor('float32', Float32Array.from([lr]), []),
      };
      for (const [k, v] of Object.entries(params)) feeds[k] = new ort.Tensor('float32', v, shapes[k]);
      const out = await session.run(feeds);
      const ref = reference(x, params, labels);
      const loss = Number((out.loss!.data as Float32Array)[0]);
      expect(loss).toBeCloseTo(ref.loss, 5);
      const updated: Record<string, Float32Array> = {};
      for (const name of Object.keys(params)) {
        const grad = out[step.gradients.get(name)!]!.data as Float32Array;
        grad.forEach((v, j) => expect(v).toBeCloseTo(ref.grads[name]![j]!, 5));
        const expected = sgdReference(params[name]!, grad, new Float32Array(grad.length), { lr }).param;
        updated[name] = out[step.params.get(name)!]!.data as Float32Array;
        updated[name].forEach((v, j) => expect(v).toBeCloseTo(expected[j]!, 6));
      }
      losses.push(loss);
      params = updated;
    }
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.8);
    for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeLessThan(losses[i - 1]!);
  });
});
