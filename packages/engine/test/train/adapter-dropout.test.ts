import {
  DataType,
  GraphBuilder,
  decodeModel,
  encodeModelBytes,
  tensorValueInfo,
  type ModelProto,
} from '@mor/onnx';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { transformersOrt } from '../../src/ort-module.js';
import { DROPOUT_STEP_INPUT, addAdapterDropout } from '../../src/train/adapter-dropout.js';
import { tinyLlamaBytes, webgpuSkipReason } from './helpers.js';

const SIZE = 1 << 16;

/**
 * `y = MatMul(x, Transpose(A))` with dropout on x; also outputs the dropped x (`x · mask / (1 − p)`) and the
 * hash `u` the mask compares with p. x has symbolic dims as in a train graph, so its Shape/Size are not folded.
 */
async function droppedInput(p: number, seed: number): Promise<ModelProto> {
  const model = await decodeModel(tinyLlamaBytes()); // reused for its opset/IR version; the graph is replaced
  const graph = model.graph!;
  Object.assign(graph, { node: [], initializer: [], valueInfo: [], input: [], output: [] });
  graph.input.push(
    tensorValueInfo('x', DataType.FLOAT, ['batch', 'features']),
    tensorValueInfo('A', DataType.FLOAT, [1, 'features']),
  );
  const b = new GraphBuilder(graph, { scope: '/t', opset: 17 });
  const y = b.op1('MatMul', ['x', b.transpose('A', [1, 0])]);
  addAdapterDropout(graph, { downProjections: ['A'], p, seed, opset: 17 });
  const matmul = graph.node.find((n) => n.opType === 'MatMul')!;
  const less = graph.node.find((n) => n.opType === 'Less')!;
  graph.output.push(
    tensorValueInfo(y, DataType.FLOAT, ['batch', 1]),
    tensorValueInfo(matmul.input[0]!, DataType.FLOAT, ['batch', 'features']),
    tensorValueInfo(less.input[0]!, DataType.FLOAT, ['batch', 'features']),
  );
  return model;
}

interface DropoutRun {
  /** The dropped x (x = 1) at each counter value: 0 or 1/(1 − p). */
  masks: Float32Array[];
  /** The hash values in [0, 1) behind each mask. */
  hashes: Float32Array[];
  /** The dropout nodes of the graph, as built. */
  nodes: { name: string; opType: string; input: string[]; output: string[] }[];
  /** Execution provider of each node that ran, by node name (onnxruntime's profile; webgpu runs only). */
  providers: Map<string, string>;
}

async function dropoutRun(
  p: number,
  seed: number,
  steps: number[],
  device: 'cpu' | 'webgpu' = 'cpu',
): Promise<DropoutRun> {
  const model = await droppedInput(p, seed);
  const dropped = model.graph!.node.find((n) => n.opType === 'MatMul')!.input[0]!;
  const hash = model.graph!.node.find((n) => n.opType === 'Less')!.input[0]!;
  const ort = await transformersOrt();
  const profileDir = device === 'webgpu' ? mkdtempSync(join(tmpdir(), 'mor-dropout-')) : undefined;
  const session = await ort.InferenceSession.create(
    encodeModelBytes(model),
    profileDir
      ? { executionProviders: ['webgpu'], enableProfiling: true, profileFilePrefix: join(profileDir, 'p') }
      : {},
  );
  const nodes = model.graph!.node.filter((n) => n.name.startsWith('/dropout/'));
  const run: DropoutRun = { masks: [], hashes: [], nodes, providers: new Map() };
  try {
    for (const step of steps) {
      const r = await session.run({
        x: new ort.Tensor('float32', new Float32Array(SIZE).fill(1) as never, [4, SIZE / 4]),
        A: new ort.Tensor('float32', new Float32Array(SIZE / 4) as never, [1, SIZE / 4]),
        [DROPOUT_STEP_INPUT]: new ort.Tensor('int32', Int32Array.of(step) as never, []),
      });
      run.masks.push(Float32Array.from(r[dropped]!.data as Float32Array));
      run.hashes.push(Float32Array.from(r[hash]!.data as Float32Array));
    }
    if (profileDir) {
      (session as unknown as { endProfiling(): void }).endProfiling();
      const [file] = readdirSync(profileDir);
      const events = JSON.parse(readFileSync(join(profileDir, file!), 'utf8')) as {
        cat: string;
        name: string;
        args: { provider?: string };
      }[];
      for (const e of events)
        if (e.cat === 'Node' && e.name.endsWith('_kernel_time'))
          run.providers.set(e.name.slice(0, -'_kernel_time'.length), e.args.provider!);
    }
  } finally {
    await session.release();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  }
  return run;
}

const masks = async (p: number, seed: number, steps: number[]) => (await dropoutRun(p, seed, steps)).masks;

const kept = (m: Float32Array) => m.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0) / m.length;
const agreement = (a: Float32Array, b: Float32Array) =>
  a.reduce((n, v, i) => n + (v === b[i] ? 1 : 0), 0) / a.length;
const mismatches = (a: Float32Array, b: Float32Array) =>
  a.length === b.length ? a.reduce((n, v, i) => n + (Object.is(v, b[i]) ? 0 : 1), 0) : Infinity;

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

describe('adapter dropout masks on WebGPU', () => {
  // Where the nodes run (onnxruntime-node 1.30, webgpu EP, read from the session profile): the int64 → int32
  // Casts of the constants are folded away at load; Size and the Cast of its result to int32 run on CPU
  // (onnxruntime puts shape computations there on purpose, which is also why `session.disable_cpu_ep_fallback`
  // = 1 refuses this graph); everything else — Shape, Range, Reshape, the int32 Mul/Add/Div of the hash, its
  // Cast to float, Less, Not, the Cast of the mask, the float Muls and the MatMul — runs on WebGPU.
  const ON_WEBGPU = new Set(['Range', 'Reshape', 'Mul', 'Add', 'Div', 'Less', 'Not']);
  const steps = [0, 1, 2, 1000, 123457, 2 ** 31 - 1];
  const skip = webgpuSkipReason();
  it.skipIf(skip !== null)(
    `the int32 hash runs on WebGPU and its masks equal the CPU ones exactly${skip ? ` — skipped: ${skip}` : ''}`,
    async () => {
      for (const [p, seed] of [
        [0.1, 11],
        [0.5, 0],
        [0.3, 987654321],
      ] as const) {
        const cpu = await dropoutRun(p, seed, steps);
        const gpu = await dropoutRun(p, seed, steps, 'webgpu');
        steps.forEach((step, k) => {
          const at = { p, seed, step };
          expect({ ...at, hashes: mismatches(gpu.hashes[k]!, cpu.hashes[k]!) }).toEqual({ ...at, hashes: 0 });
          expect({ ...at, masks: mismatches(gpu.masks[k]!, cpu.masks[k]!) }).toEqual({ ...at, masks: 0 });
          expect(Math.abs(kept(gpu.masks[k]!) - (1 - p))).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / SIZE));
          expect(gpu.hashes[k]!.every((u) => u >= 0 && u < 1)).toBe(true);
        });
        // every node of the hash and the mask ran on WebGPU, and nothing but the shape computation on CPU
        const placed = (n: { name: string; opType: string }) =>
          `${n.opType} ${n.name}: ${gpu.providers.get(n.name)}`;
        // (seed 0 makes the seed term 0, and onnxruntime drops that Add at load)
        const math = gpu.nodes.filter(
          (n) => ON_WEBGPU.has(n.opType) && !(seed === 0 && n.name === '/dropout/A/Add'),
        );
        expect(math.length).toBeGreaterThan(20);
        expect(math.map(placed)).toEqual(math.map((n) => `${n.opType} ${n.name}: WebGpuExecutionProvider`));
        const size = gpu.nodes.find((n) => n.opType === 'Size')!;
        const shapeOnly = (n: { opType: string; input: string[] }) =>
          n.opType === 'Shape' ||
          n.opType === 'Size' ||
          (n.opType === 'Cast' && n.input[0] === size.output[0]);
        const onCpu = gpu.nodes.filter((n) => gpu.providers.get(n.name) === 'CPUExecutionProvider');
        expect(onCpu.filter((n) => !shapeOnly(n)).map(placed)).toEqual([]);
      }
    },
    120_000,
  );
});
