import { TensorProto_DataType } from 'onnx-buf';
import type { GraphBuilder } from '../graph/graph-builder.js';

/** Routing of one MoR branch (mor-spec.md §1, "Routing modes"). */
export type MorRouting =
  { mode: 'dense' } | { mode: 'top-k'; k: number } | { mode: 'static'; gate: Float32Array };

/** Value names of one layer's MoR parameters (initializers or graph inputs). */
export interface MorParamValues {
  A: string;
  /** The raw B/omega triple, formed into `(scaling·B_exp)^T` in the graph (folded: see mor-folded-branch.ts). */
  expert: { B: string; omegaA: string; omegaB: string; scaling: number };
  routerWeight?: string;
  routerBias?: string;
}

/** What {@link emitMorBranch} produced. */
export interface MorBranchValues {
  /** `[..., d_out]` float32 branch output, before the cast back to the layer's dtype. */
  delta: string;
  /** `[..., N]` gates (or `[N]` for static routing). */
  gates: string;
}

/**
 * `(scaling·B_exp)^T` `[N·r, d_out]` from B `[d_out,r]`, omega_A `[N,r]`, omega_B `[N,d_out]`: a subgraph of
 * parameters only, so it runs once per session run (constant-folded when the parameters are initializers).
 */
function expandedB(
  b: GraphBuilder,
  p: { B: string; omegaA: string; omegaB: string; scaling: number },
  n: number,
  r: number,
  dOut: number,
): string {
  const perExpert = b.op1('Mul', [
    b.op1('Mul', [b.unsqueeze(p.B, [0]), b.unsqueeze(p.omegaB, [2])]),
    b.unsqueeze(p.omegaA, [1]),
  ]); // [N, d_out, r]
  const stacked = b.op1('Reshape', [b.transpose(perExpert, [0, 2, 1]), b.i64([n * r, dOut])]);
  return b.op1('Mul', [stacked, b.f(p.scaling, [], 'scaling')]);
}

function routerGates(b: GraphBuilder, x: string, p: MorParamValues, routing: MorRouting): string {
  if (routing.mode === 'static') return b.f(routing.gate, undefined, 'gate');
  let logits = b.op1('MatMul', [x, b.transpose(p.routerWeight!, [1, 0])]);
  if (p.routerBias) logits = b.op1('Add', [logits, p.routerBias]);
  return gatesFromLogits(b, logits, routing);
}

/**
 * The gates `[..., N]` from router logits: a softmax over all of them (dense), or over the k largest with 0
 * elsewhere (top-k; ONNX TopK puts the lower index first among equal values, which is the spec's tie rule).
 */
export function gatesFromLogits(
  b: GraphBuilder,
  logits: string,
  routing: Exclude<MorRouting, { mode: 'static' }>,
): string {
  if (routing.mode === 'dense') return b.softmaxLast(logits);
  b.requireOpset(11, 'top-k routing (TopK with K input, ScatterElements)');
  const topK = { axis: { int: -1 }, largest: { int: 1 }, sorted: { int: 1 } };
  const [values, indices] = b.op('TopK', [logits, b.i64([routing.k])], topK, 2);
  const zeros = b.zerosLike(logits);
  return b.op1('ScatterElements', [zeros, indices!, b.softmaxLast(values!)], { axis: { int: -1 } });
}

/**
 * Emits the efficient MoR branch (mor-spec.md §2) on float32 input `x` `[..., d_in]`:
 * `u = x·A^T`, gates from the router, `z = g ⊗ u` flattened expert-major to `[..., N·r]`,
 * `delta = z · (scaling·B_exp)^T`.
 */
export function emitMorBranch(
  b: GraphBuilder,
  x: string,
  p: MorParamValues,
  routing: MorRouting,
  dims: { n: number; r: number; dOut: number },
): MorBranchValues {
  const { n, r, dOut } = dims;
  const u = b.op1('MatMul', [x, b.transpose(p.A, [1, 0])]); // [..., r]
  const gates = routerGates(b, x, p, routing);
  const outer = b.op1('Mul', [b.unsqueeze(gates, [-1]), b.unsqueeze(u, [-2])]); // [..., N, r]
  const lead = b.op1('Slice', [b.op1('Shape', [u]), b.i64([0]), b.i64([-1]), b.i64([0])]);
  const zShape = b.op1('Concat', [lead, b.i64([n * r])], { axis: { int: 0 } });
  const z = b.op1('Reshape', [outer, zShape]); // [..., N·r]
  return { delta: b.op1('MatMul', [z, expandedB(b, p.expert, n, r, dOut)]), gates };
}

/** Casts to float32 when the layer runs in float16 (the branch always computes in float32). */
export function castIn(b: GraphBuilder, x: string, dtype: 'float32' | 'float16'): string {
  return dtype === 'float16' ? b.op1('Cast', [x], { to: { int: TensorProto_DataType.FLOAT } }) : x;
}

/** Casts the branch output back to the layer's dtype. */
export function castOut(b: GraphBuilder, delta: string, dtype: 'float32' | 'float16'): string {
  return dtype === 'float16' ? b.op1('Cast', [delta], { to: { int: TensorProto_DataType.FLOAT16 } }) : delta;
}
