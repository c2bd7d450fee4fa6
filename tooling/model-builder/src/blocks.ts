import { ModelSpecError, constF32, createModelGraph } from './model-graph.js';
import { emitDynamicInt8MatMul, emitMatMulNBits } from './quantize.js';
import { SeededRng } from './rng.js';
import type { BuildContext, CommonOptions, LinearInfo } from './types.js';

/** Start a model: graph, PRNG and the quantization choice. */
export function createContext(opts: CommonOptions, isBlockLinear: (module: string) => boolean): BuildContext {
  if (opts.quantize !== undefined && opts.quantize !== 'matmulnbits' && opts.quantize !== 'dynamic-int8') {
    throw new ModelSpecError(`unknown quantize mode ${String(opts.quantize)}`, {
      quantize: opts.quantize,
    });
  }
  return {
    g: createModelGraph(),
    rng: new SeededRng(opts.seed ?? 0),
    linears: [],
    quantize: opts.quantize,
    quantizeFilter: opts.quantizeFilter ?? isBlockLinear,
  };
}

/** One linear layer to emit. */
export interface LinearSpec {
  /** PyTorch module path, e.g. `model.layers.0.mlp.gate_proj`. */
  module: string;
  /** Node scope, e.g. `/model/layers.0/mlp/gate_proj`. */
  scope: string;
  dIn: number;
  dOut: number;
  /** Add a bias (`Add(bias, MatMul_output)` as TorchScript emits it). */
  bias?: boolean;
  /**
   * Weight initializer name; default a TorchScript `onnx::MatMul_N` (nn.Linear weights are exported transposed under
   * an anonymous name). GPT-2's Conv1D passes `module + '.weight'`: its weight is already `[d_in, d_out]`.
   */
  weightName?: string;
  /** The `[dIn, dOut]` weight; default N(0, 1/dIn) from the model's PRNG. */
  weight?: Float32Array;
  /** Name of the layer's final output tensor (e.g. `logits`); default the node's `…_output_0`. */
  outputName?: string;
}

/** Emit `x @ W (+ b)` in the model's storage form and record it; returns the output tensor. */
export function linear(ctx: BuildContext, spec: LinearSpec, x: string): string {
  const { g, rng } = ctx;
  const { dIn, dOut, scope } = spec;
  // Draw weights in the same order whatever the storage form, so a quantized model shares its fp32 twin's weights.
  const w = spec.weight ?? rng.normalArray(dIn * dOut, 1 / Math.sqrt(dIn));
  const b = spec.bias ? rng.normalArray(dOut, 0.1) : undefined;
  const baseName = spec.weightName ?? g.exportName('MatMul');
  const mode = ctx.quantize !== undefined && ctx.quantizeFilter(spec.module) ? ctx.quantize : undefined;
  let node: string;
  let weight: string;
  let out: string;
  const mmOut = b ? undefined : spec.outputName;
  if (mode === 'matmulnbits') {
    [node, weight, out] = emitMatMulNBits(g, scope, x, w, dIn, dOut, baseName, mmOut);
  } else if (mode === 'dynamic-int8') {
    [node, weight, out] = emitDynamicInt8MatMul(g, scope, x, w, dIn, dOut, baseName, mmOut);
  } else {
    weight = g.initializer(baseName, [dIn, dOut], w);
    out = g.at(scope).op1('MatMul', [x, weight], {}, mmOut);
    node = `${scope}/MatMul`;
  }
  const info: LinearInfo = {
    module: spec.module,
    node,
    weight,
    output: out,
    dIn,
    dOut,
    form: mode ?? 'matmul',
  };
  if (b) {
    info.bias = g.initializer(`${spec.module}.bias`, [dOut], b);
    info.output = g.at(scope).op1('Add', [info.bias, out], {}, spec.outputName);
    if (mode === undefined) info.form = 'matmul-add';
  }
  ctx.linears.push(info);
  return info.output;
}

/**
 * A norm weight of all ones. TorchScript dedupes identical initializers: the first keeps its name, later ones are
 * `Identity` nodes of it, which is how real exports look (and why adapters must never edit one in place).
 */
export function sharedOnes(ctx: BuildContext, name: string, dim: number): string {
  let created = false;
  const first = ctx.g.once(`ones:${dim}`, () => {
    created = true;
    return name;
  });
  if (created) return ctx.g.initializer(name, [dim], new Float32Array(dim).fill(1));
  return ctx.g.at('').op1('Identity', [first], {}, name);
}

/**
 * RMSNorm as TorchScript opset 17 emits Llama's: Cast, Pow 2, ReduceMean, Add eps, Sqrt, Div(1, ·), Mul, Cast,
 * Mul(weight, ·). Returns the normalized tensor and the entry Cast (the export takes the residual from it).
 */
export function rmsNorm(
  ctx: BuildContext,
  scope: string,
  x: string,
  weight: string,
  eps: number,
): { out: string; residual: string } {
  const { g } = ctx;
  const xf = g.at(scope).op1('Cast', [x], { to: { int: 1 } });
  const sq = g.at(scope).op1('Pow', [xf, constF32(g.at(scope), 2)]);
  const mean = g.at(scope).op1('ReduceMean', [sq], { axes: { ints: [-1] }, keepdims: { int: 1 } });
  const rms = g.at(scope).op1('Sqrt', [g.at(scope).op1('Add', [mean, constF32(g.at(scope), eps)])]);
  const inv = g.at(scope).op1('Div', [constF32(g.at(scope), 1), rms]);
  const normed = g.at(scope).op1('Cast', [g.at(scope).op1('Mul', [xf, inv])], { to: { int: 1 } });
  return { out: g.at(scope).op1('Mul', [weight, normed]), residual: xf };
}

/** `LayerNormalization` (opset 17) with weight ≈ 1 and bias ≈ 0 named `${module}.weight` / `${module}.bias`. */
export function layerNorm(
  ctx: BuildContext,
  scope: string,
  module: string,
  x: string,
  dim: number,
  eps: number,
): string {
  const { g, rng } = ctx;
  const w = g.initializer(`${module}.weight`, [dim], rng.normalArray(dim, 0.1, 1));
  const b = g.initializer(`${module}.bias`, [dim], rng.normalArray(dim, 0.1));
  return g.at(scope).op1('LayerNormalization', [x, w, b], { axis: { int: -1 }, epsilon: { float: eps } });
}

/** GPT-2's `gelu_new`: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), decomposed as TorchScript exports it. */
export function geluTanh(ctx: BuildContext, scope: string, x: string): string {
  const { g } = ctx;
  const half = g.at(scope).op1('Mul', [constF32(g.at(scope), 0.5), x]);
  const cube = g.at(scope).op1('Pow', [x, constF32(g.at(scope), 3)]);
  const inner = g.at(scope).op1('Add', [x, g.at(scope).op1('Mul', [constF32(g.at(scope), 0.044715), cube])]);
  const t = g
    .at(scope)
    .op1('Tanh', [g.at(scope).op1('Mul', [constF32(g.at(scope), Math.sqrt(2 / Math.PI)), inner])]);
  return g.at(scope).op1('Mul', [half, g.at(scope).op1('Add', [constF32(g.at(scope), 1), t])]);
}

/** BERT's exact gelu: x·0.5·(1 + erf(x/√2)) as Div, Erf, Add, Mul, Mul. */
export function geluErf(ctx: BuildContext, scope: string, x: string): string {
  const { g } = ctx;
  const e = g.at(scope).op1('Erf', [g.at(scope).op1('Div', [x, constF32(g.at(scope), Math.SQRT2)])]);
  const y = g.at(scope).op1('Mul', [x, g.at(scope).op1('Add', [e, constF32(g.at(scope), 1)])]);
  return g.at(scope).op1('Mul', [y, constF32(g.at(scope), 0.5)]);
}

/** Random embedding table `[rows, dim]` ~ N(0, std²) under `name`. */
export function embeddingTable(
  ctx: BuildContext,
  name: string,
  rows: number,
  dim: number,
  std = 1,
): { name: string; data: Float32Array } {
  const data = ctx.rng.normalArray(rows * dim, std);
  return { name: ctx.g.initializer(name, [rows, dim], data), data };
}

/** Transpose a row-major `[rows, cols]` matrix (tied lm_head weights are exported as a transposed copy). */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}
