import { TensorProto_DataType as DataType, type GraphProto } from 'onnx-buf';
import { autodiffBuilder } from '../builder.js';
import { adamwDefaults, type AdamWHyper } from '../reference/adamw.js';
import { collectStaticInfo } from '../static-info.js';
import type { OptimizerOutputs } from './emit-sgd.js';
import { tensorValueInfo } from '../../graph/value-info.js';
import { addScalarInput, addStateInput, exposeUpdated, updatedName, type ParamGrad } from './optimizer-io.js';

/**
 * Default of {@link AdamWUpdateOptions.maxFusedTensors}: ≤ 8 storage buffers per WebGPU shader (Concat inputs +
 * output), the smallest limit of the backends we run on.
 */
export const WEBGPU_MAX_FUSED_TENSORS = 6;

/** Options of {@link emitAdamWUpdate}: torch AdamW hyper-parameters (lr is fed per step). */
export interface AdamWUpdateOptions extends Omit<AdamWHyper, 'lr'> {
  params: ParamGrad[];
  /** Float scalar graph input holding the step's learning rate (added when missing). Default `lr`. */
  lr?: string;
  /** Float scalar graph input holding the step number t, counting from 1 (bias correction). Default `step`. */
  step?: string;
  opset?: number;
  floatType?: DataType.FLOAT | DataType.DOUBLE;
  /**
   * Most tensors one fused update concatenates (default {@link WEBGPU_MAX_FUSED_TENSORS}, safe everywhere).
   * Backends without a per-kernel buffer limit (CPU, CUDA, WASM) take `Infinity`: one update per shape class.
   */
  maxFusedTensors?: number;
}

/**
 * Emits the AdamW update of {@link adamwReference} as graph ops, with state inputs `opt.m.<param>`,
 * `opt.v.<param>` (zeros at first) and outputs `updated.<param>`, `updated.opt.m.<param>`, `updated.opt.v.<param>`.
 */
export function emitAdamWUpdate(graph: GraphProto, options: AdamWUpdateOptions): OptimizerOutputs {
  const floatType = options.floatType ?? DataType.FLOAT;
  const h = adamwDefaults({ ...options, lr: 0 });
  const b = autodiffBuilder(graph, '/adamw', options.opset, floatType);
  const info = collectStaticInfo(graph);
  const [lr, step] = [options.lr ?? 'lr', options.step ?? 'step'];
  addScalarInput(graph, lr, floatType);
  addScalarInput(graph, step, floatType);
  const mul = (x: string, y: string) => b.op1('Mul', [x, y]);
  // Shared scalars: bias corrections c = 1 − βᵗ and the decay factor 1 − lr·wd.
  const c1 = b.op1('Sub', [b.f(1), b.op1('Pow', [b.f(h.beta1), step])]);
  const c2 = b.op1('Sub', [b.f(1), b.op1('Pow', [b.f(h.beta2), step])]);
  const keep = b.op1('Sub', [b.f(1), mul(lr, b.f(h.weightDecay))]);
  // One AdamW on tensors of any (equal) shape: returns p', m', v'.
  const update = (param: string, grad: string, m: string, v: string) => {
    // 1. decoupled weight decay: p ← p·(1 − lr·wd)
    const decayed = mul(param, keep);
    // 2-3. moments: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²
    const m2 = b.op1('Add', [mul(m, b.f(h.beta1)), mul(grad, b.f(1 - h.beta1))]);
    const v2 = b.op1('Add', [mul(v, b.f(h.beta2)), mul(mul(grad, grad), b.f(1 - h.beta2))]);
    // 4-5. p ← p − lr·(m/c1) / (√(v/c2) + ε)
    const denom = b.op1('Add', [b.op1('Sqrt', [b.op1('Div', [v2, c2])]), b.f(h.eps)]);
    const next = b.op1('Sub', [decayed, b.op1('Div', [mul(lr, b.op1('Div', [m2, c1])), denom])]);
    return [next, m2, v2] as const;
  };
  const result: OptimizerOutputs = { params: new Map(), state: new Map(), stateOf: new Map() };
  const state = options.params.map(({ param }) =>
    ['m', 'v'].map((slot) => {
      const name = addStateInput(graph, info, slot, param, floatType);
      result.stateOf.set(name, param);
      return name;
    }),
  );
  const shapes = options.params.map(({ param }) => info.shape(param));
  const sizes = shapes.map((s) =>
    s?.every((d) => typeof d === 'number') ? (s as number[]).reduce((a, d) => a * d, 1) : undefined,
  );
  // Many small tensors (adapters: 2-5 per layer): one update over the concatenation of a group costs ~15 kernels
  // instead of ~15 per tensor; elementwise, so every value is the same as tensor by tensor. On WebGPU groups stay
  // small because a kernel binds each Concat input / Split output as a storage buffer, and devices allow as few
  // as 8 per shader (SwiftShader 10): a 30-way Concat fails to compile there. A group holds tensors of one
  // trailing shape (all axes but the first), so Concat and Split run on axis 0 as they are: no Reshape in or
  // out (one per tensor and state had been ~7 kernels per tensor), and Split writes the outputs itself.
  const fuse = (group: number[]) => {
    const stack = (names: string[]) => b.op1('Concat', names, { axis: { int: 0 } });
    const pick = <T>(xs: T[]) => group.map((i) => xs[i]!);
    const params = pick(options.params);
    const groupState = pick(state);
    const outs = update(
      stack(params.map((p) => p.param)),
      stack(params.map((p) => p.grad)),
      stack(groupState.map((s) => s[0]!)),
      stack(groupState.map((s) => s[1]!)),
    );
    const names = [params.map((p) => p.param), groupState.map((s) => s[0]!), groupState.map((s) => s[1]!)];
    const rows = group.map((i) => (shapes[i] as number[])[0]!);
    outs.forEach((whole, k) => {
      const outNames = names[k]!.map((name) => updatedName(name));
      b.op('Split', [whole, b.i64(rows)], { axis: { int: 0 } }, outNames);
      names[k]!.forEach((name, j) => {
        graph.output.push(tensorValueInfo(outNames[j]!, floatType, shapes[group[j]!] as number[]));
        (k === 0 ? result.params : result.state).set(name, outNames[j]!);
      });
    });
  };
  const single = (i: number) => {
    const { param, grad } = options.params[i]!;
    const [m, v] = state[i]!;
    const [next, m2, v2] = update(param, grad, m!, v!);
    result.params.set(param, exposeUpdated(b, info, next, param));
    result.state.set(m!, exposeUpdated(b, info, m2, m!));
    result.state.set(v!, exposeUpdated(b, info, v2, v!));
  };
  // Static shapes of rank ≥ 1, grouped by trailing shape in order of first appearance.
  const byTrailing = new Map<string, number[]>();
  options.params.forEach((_, i) => {
    const shape = shapes[i];
    if (sizes[i] === undefined || !shape || shape.length === 0) return;
    const key = shape.slice(1).join(',');
    byTrailing.set(key, [...(byTrailing.get(key) ?? []), i]);
  });
  const fused = new Set<number>();
  const most = Math.max(2, options.maxFusedTensors ?? WEBGPU_MAX_FUSED_TENSORS);
  for (const members of byTrailing.values()) {
    for (let g = 0; g < members.length; g += most) {
      const group = members.slice(g, g + most);
      if (group.length < 2) continue;
      fuse(group);
      group.forEach((i) => fused.add(i));
    }
  }
  options.params.forEach((_, i) => {
    if (!fused.has(i)) single(i);
  });
  return result;
}
