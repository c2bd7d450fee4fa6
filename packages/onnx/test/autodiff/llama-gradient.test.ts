import { clone, fromBinary } from '@bufbuild/protobuf';
import { readFileSync } from 'node:fs';
import { GraphProtoSchema, ModelProtoSchema, type TensorProto } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/autodiff/build-gradient-graph.js';
import { initializersToInputs } from '../../src/autodiff/initializers-to-inputs.js';
import { addCausalLmLoss } from '../../src/autodiff/losses/causal-lm-loss.js';
import { modelBytes } from './helpers/onnx-model.js';

// The real thing: the TorchScript export of a tiny Llama (opset 17, no value_info), the MLP weights of both
// layers turned into trainable inputs, the causal-LM loss appended, and the whole graph differentiated.
const fixture = (p: string) => new URL(`../../../../fixtures/tiny-llama/${p}`, import.meta.url);
const golden = JSON.parse(readFileSync(fixture('golden.json'), 'utf8')) as {
  input_ids: number[][];
  logits_base: { shape: number[]; data: number[] };
};

function floats(t: TensorProto): Float32Array {
  if (t.rawData.length) return new Float32Array(Uint8Array.from(t.rawData).buffer); // copy: rawData may be an unaligned view of the file
  return Float32Array.from(t.floatData);
}

describe('tiny Llama: gradients w.r.t. the MLP and embedding weights', () => {
  it('differentiates the full graph and agrees with finite differences', async () => {
    const model = fromBinary(ModelProtoSchema, readFileSync(fixture('onnx/model.onnx')));
    const g = model.graph!;
    const mlpWeights = g.node
      .filter((n) => n.opType === 'MatMul' && n.name.includes('/mlp/'))
      .map((n) => n.input[1]!)
      .filter((w) => g.initializer.some((t) => t.name === w));
    expect(mlpWeights).toHaveLength(6); // gate/up/down in 2 layers
    // The embedding too: token 54 appears in both rows, so its Gather gradient must accumulate.
    const embedding = 'm.model.embed_tokens.weight';
    const trained = [...mlpWeights, embedding];
    const values = new Map(
      initializersToInputs(g, trained).map((t) => [t.name, { data: floats(t), dims: t.dims.map(Number) }]),
    );
    addCausalLmLoss(g, { logits: 'logits' });
    const forward = clone(GraphProtoSchema, g);
    const { gradients, differentiated } = buildGradientGraph(g, { loss: 'loss', wrt: trained });
    const opsOnPath = [...new Set(differentiated.map((n) => n.opType))].sort();
    console.log(`llama ops on the path to the MLP and embedding weights: ${opsOnPath.join(', ')}`);
    // The rotary halves are constant crops of static extents: each gradient is one Pad, not a flat scatter.
    const slices = differentiated.filter((n) => n.opType === 'Slice').length;
    expect(slices).toBeGreaterThan(0);
    expect(g.node.filter((n) => n.opType === 'Pad' && n.name.startsWith('/grad/'))).toHaveLength(slices);

    const [B, T] = [golden.input_ids.length, golden.input_ids[0]!.length];
    const ids = BigInt64Array.from(golden.input_ids.flat().map(BigInt));
    const feeds = (overrides: Map<string, Float32Array> = new Map()): Record<string, ort.Tensor> => {
      const f: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', ids, [B, T]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(B * T).fill(1n), [B, T]),
        labels: new ort.Tensor('int64', ids, [B, T]),
      };
      for (const [name, v] of values)
        f[name] = new ort.Tensor('float32', overrides.get(name) ?? v.data, v.dims);
      return f;
    };
    const backward = await ort.InferenceSession.create(modelBytes(g));
    const out = await backward.run(feeds());

    // The forward loss is the HF loss of PyTorch's own logits.
    const { data: logits, shape } = golden.logits_base;
    const V = shape[2]!;
    let ce = 0;
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T - 1; t++) {
        const row = logits.slice((b * T + t) * V, (b * T + t + 1) * V);
        const m = Math.max(...row);
        ce += m + Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0)) - row[Number(ids[b * T + t + 1])]!;
      }
    expect(Number((out.loss!.data as Float32Array)[0])).toBeCloseTo(ce / (B * (T - 1)), 4);

    const fwd = await ort.InferenceSession.create(modelBytes(forward));
    const lossAt = async (name: string, i: number, delta: number) => {
      const d = Float32Array.from(values.get(name)!.data);
      d[i]! += delta;
      return Number(((await fwd.run(feeds(new Map([[name, d]])))).loss!.data as Float32Array)[0]);
    };
    for (const name of [mlpWeights[0]!, mlpWeights[mlpWeights.length - 1]!, embedding]) {
      const grad = out[gradients.get(name)!]!.data as Float32Array;
      // the two coordinates with the largest gradient: FD in float32 needs a signal well above rounding
      const top = [...grad.keys()].sort((a, b) => Math.abs(grad[b]!) - Math.abs(grad[a]!)).slice(0, 2);
      for (const i of top) {
        const eps = 1e-2;
        const fd = ((await lossAt(name, i, eps)) - (await lossAt(name, i, -eps))) / (2 * eps);
        expect(Math.abs(fd - grad[i]!)).toBeLessThan(0.02 * Math.abs(grad[i]!) + 1e-5);
      }
    }
    expect(opsOnPath).toEqual(
      expect.arrayContaining(['MatMul', 'Softmax', 'Sigmoid', 'Pow', 'ReduceMean', 'Gather']),
    );
  });
});
