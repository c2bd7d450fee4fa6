import {
  DataType,
  GraphBuilder,
  UniqueNames,
  decodeModel,
  encodeModelBytes,
  tensorValueInfo,
  type ModelProto,
} from '@mor/onnx';
import { describe, expect, it } from 'vitest';
import { transformersOrt } from '../../src/ort-module.js';
import { DROPOUT_STEP_INPUT, addAdapterDropout } from '../../src/train/adapter-dropout.js';
import type { TrainOrt } from '../../src/train/index.js';
import { tinyLlamaBytes } from './helpers.js';

const SIZE = 1 << 16;

/** `y = MatMul(x, Transpose(A))` with dropout on x; also outputs the dropped x (`x · mask / (1 − p)`). */
async function droppedInput(p: number, seed: number): Promise<ModelProto> {
  const model = await decodeModel(tinyLlamaBytes()); // reused for its opset/IR version; the graph is replaced
  const graph = model.graph!;
  Object.assign(graph, { node: [], initializer: [], valueInfo: [], input: [], output: [] });
  graph.input.push(
    tensorValueInfo('x', DataType.FLOAT, [4, SIZE / 4]),
    tensorValueInfo('A', DataType.FLOAT, [1, SIZE / 4]),
  );
  const b = new GraphBuilder(graph, new UniqueNames(graph), 17, '/t');
  const y = b.op1('MatMul', ['x', b.transpose('A', [1, 0])]);
  graph.node.push(...b.nodes);
  addAdapterDropout(graph, { downProjections: ['A'], p, seed, opset: 17 });
  const matmul = graph.node.find((n) => n.opType === 'MatMul')!;
  graph.output.push(
    tensorValueInfo(y, DataType.FLOAT, [4, 1]),
    tensorValueInfo(matmul.input[0]!, DataType.FLOAT, [4, SIZE / 4]),
  );
  return model;
}

async function masks(p: number, seed: number, steps: number[]): Promise<Float32Array[]> {
  const model = await droppedInput(p, seed);
  const dropped = model.graph!.node.find((n) => n.opType === 'MatMul')!.input[0]!;
  const ort = (await transformersOrt()) as unknown as TrainOrt;
  const session = await ort.InferenceSession.create(encodeModelBytes(model), {});
  const out: Float32Array[] = [];
  for (const step of steps) {
    const r = await session.run({
      x: new ort.Tensor('float32', new Float32Array(SIZE).fill(1) as never, [4, SIZE / 4]),
      A: new ort.Tensor('float32', new Float32Array(SIZE / 4) as never, [1, SIZE / 4]),
      [DROPOUT_STEP_INPUT]: new ort.Tensor('int32', Int32Array.of(step) as never, []),
    });
    out.push(Float32Array.from(r[dropped]!.data as Float32Array));
  }
  await session.release();
  return out;
}

const kept = (m: Float32Array) => m.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0) / m.length;
const agreement = (a: Float32Array, b: Float32Array) =>
  a.reduce((n, v, i) => n + (v === b[i] ? 1 : 0), 0) / a.length;

describe('adapter dropout masks', () => {
  it('keep ≈ 1 − p of the elements, scaled by 1/(1 − p), and change from micro-batch to micro-batch', async () => {
    const p = 0.1;
    const [m0, m1, m0again, far] = await masks(p, 11, [0, 1, 0, 123457]);
    for (const m of [m0!, m1!, far!]) {
      expect(Math.abs(kept(m) - (1 - p))).toBeLessThan(0.006); // 4 σ at n = 65536
      expect(m.every((v) => v === 0 || Math.abs(v - 1 / (1 - p)) < 1e-6)).toBe(true);
    }
    expect(m0again).toEqual(m0); // a function of the counter, not of how many runs came before
    // independent masks agree on (1 − p)² + p² of the elements; identical ones on all
    for (const other of [m1!, far!]) expect(Math.abs(agreement(m0!, other) - 0.82)).toBeLessThan(0.01);
    // neighbouring elements are not correlated (the index enters the hash linearly)
    let both = 0;
    for (let i = 1; i < m0!.length; i++) both += m0![i] === 0 && m0![i - 1] === 0 ? 1 : 0;
    expect(Math.abs(both / (m0!.length - 1) - p * p)).toBeLessThan(0.004);
  });

  it('another seed gives other masks at the same counter', async () => {
    const [a] = await masks(0.3, 1, [5]);
    const [b] = await masks(0.3, 2, [5]);
    expect(Math.abs(agreement(a!, b!) - (0.7 * 0.7 + 0.3 * 0.3))).toBeLessThan(0.01);
  });
});
