import { clone, fromBinary } from '@bufbuild/protobuf';
import { readFileSync } from 'node:fs';
import { GraphProtoSchema, ModelProtoSchema, type GraphProto, type NodeProto } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/autodiff/build-gradient-graph.js';
import { layerSegments } from '../../src/autodiff/checkpointing.js';
import { initializersToInputs } from '../../src/autodiff/initializers-to-inputs.js';
import { addCausalLmLoss } from '../../src/autodiff/losses/causal-lm-loss.js';
import { modelBytes } from './helpers/onnx-model.js';

// The TorchScript export of a tiny Llama (2 layers), every projection weight trainable, differentiated with and
// without gradient checkpointing.
const fixture = (p: string) => new URL(`../../../../fixtures/tiny-llama/${p}`, import.meta.url);
const inputIds = (JSON.parse(readFileSync(fixture('golden.json'), 'utf8')) as { input_ids: number[][] })
  .input_ids;

function setup() {
  const model = fromBinary(ModelProtoSchema, readFileSync(fixture('onnx/model.onnx')));
  const g = model.graph!;
  const weights = g.node
    .filter((n) => n.opType === 'MatMul' && n.name.includes('/layers.'))
    .map((n) => n.input[1]!)
    .filter((w) => g.initializer.some((t) => t.name === w));
  const values = new Map(
    initializersToInputs(g, weights).map((t) => [
      t.name,
      { data: new Float32Array(Uint8Array.from(t.rawData).buffer), dims: t.dims.map(Number) },
    ]),
  );
  addCausalLmLoss(g, { logits: 'logits' });
  return { g, weights, values };
}

/** Every node some node of `targets` depends on (by tensor edges), by name. */
function ancestors(graph: GraphProto, targets: NodeProto[]): Set<string> {
  const producer = new Map(graph.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
  const seen = new Set<string>();
  const stack = [...targets];
  while (stack.length) {
    for (const i of stack.pop()!.input) {
      const p = producer.get(i);
      if (p && !seen.has(p.name)) {
        seen.add(p.name);
        stack.push(p);
      }
    }
  }
  return seen;
}

describe('gradient checkpointing', () => {
  it('splits the forward by decoder layer from node names; nodes between go with the next layer', () => {
    const names = [
      '/model/embed/Gather',
      '/decomposed/Mul',
      '/model/layers.0/a/MatMul',
      '/mor/model.layers.0.q/Mul',
    ];
    const more = [
      '/decomposed/Add',
      '/model/layers.1/b/MatMul',
      '/transformer/h.2/c',
      '/model/norm/Mul',
      '/lm_head/MatMul',
    ];
    const nodes = [...names, ...more].map((name) => ({ name }) as NodeProto);
    expect(layerSegments(nodes)).toEqual([-1, -1, 0, 0, 1, 1, 2, -1, -1]);
  });

  it("recomputes each layer from its inputs, gated on the previous layer's gradients, with the same gradients", async () => {
    const { g, weights, values } = setup();
    const forwardNodes = g.node.length;
    const plain = clone(GraphProtoSchema, g);
    const plainGrads = buildGradientGraph(plain, { loss: 'loss', wrt: weights }).gradients;
    const result = buildGradientGraph(g, { loss: 'loss', wrt: weights, checkpointing: true });
    expect(result.recomputedLayers).toEqual([1, 0]);

    const copies = g.node.slice(forwardNodes).filter((n) => n.name.includes('/recompute'));
    const copied = new Set(copies.flatMap((n) => n.output.map((o) => o.replace(/\/recompute(_\d+)?$/, ''))));
    expect(copies.length).toBeGreaterThan(40);
    // The backward reads no activation from inside a layer, only the copies and what crosses layers (here the
    // rotary tables layer 0 makes and layer 1 reads too).
    const forward = g.node.slice(0, forwardNodes);
    const layers = layerSegments(forward);
    const layerOf = new Map(forward.flatMap((n, k) => n.output.map((o) => [o, layers[k]!] as const)));
    const crossing = new Set(
      forward.flatMap((n, k) => n.input.filter((i) => layerOf.has(i) && layerOf.get(i) !== layers[k])),
    );
    expect([...crossing].filter((t) => copied.has(t)).length).toBe(2);
    const backward = g.node.slice(forwardNodes).filter((n) => !n.name.includes('/recompute'));
    const read = backward.flatMap((n) => n.input).filter((i) => copied.has(i) && !crossing.has(i));
    expect(read).toEqual([]);
    // Each copy depends on a gradient, layer 0's on layer 1's weight gradients: onnxruntime cannot run it early.
    const layer0 = copies.filter((n) => n.name.includes('/layers.0/'));
    const before0 = ancestors(g, layer0);
    const gradOf = (w: string) => g.node.find((n) => n.output[0] === `grad.${w}`)!.input[0]!;
    const producerOf = (t: string) => g.node.find((n) => n.output.includes(t))!.name;
    const layer1Weights = weights.filter((w) =>
      g.node.some((n) => n.input.includes(w) && n.name.includes('/layers.1/')),
    );
    expect(layer1Weights.length).toBe(7);
    for (const w of layer1Weights) expect(before0.has(producerOf(gradOf(w)))).toBe(true);
    expect([...ancestors(g, copies)].some((n) => n.startsWith('/grad/IsNaN'))).toBe(true);

    const [B, T] = [inputIds.length, inputIds[0]!.length];
    const ids = BigInt64Array.from(inputIds.flat().map(BigInt));
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [B, T]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(B * T).fill(1n), [B, T]),
      labels: new ort.Tensor('int64', ids, [B, T]),
    };
    for (const [name, v] of values) feeds[name] = new ort.Tensor('float32', v.data, v.dims);
    const run = async (graph: GraphProto) =>
      (await ort.InferenceSession.create(modelBytes(graph))).run(feeds);
    const [a, b] = [await run(plain), await run(g)];
    let scale = 0;
    for (const w of weights) {
      const [x, y] = [a[plainGrads.get(w)!]!.data, b[result.gradients.get(w)!]!.data] as Float32Array[];
      x!.forEach((v, i) => {
        scale = Math.max(scale, Math.abs(v));
        expect(Math.abs(v - y![i]!)).toBeLessThan(1e-6);
      });
    }
    expect(scale).toBeGreaterThan(1e-3);
  });
});
