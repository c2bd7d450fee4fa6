import { morScaling, type MorRouting } from '@mor/core';
import { TensorProto_DataType, type GraphProto, type ModelProto } from 'onnx-buf';
import { GraphError } from '../errors.js';
import { GraphBuilder } from '../graph/graph-builder.js';
import { DEFAULT_OPSET, GraphIndex, modelGraph, opsetVersion } from '../graph/graph-index.js';
import { floatTensor } from '../graph/tensor-data.js';
import { UniqueNames } from '../graph/unique-names.js';
import { tensorValueInfo } from '../graph/value-info.js';
import { findLinearLayers } from '../match/find-linear-layers.js';
import type { LinearLayer } from '../match/linear-layer.js';
import { matchTargets } from '../match/match-targets.js';
import { adapterShapes, type AdapterInput } from './adapter-input.js';
import { foldConstants, type FoldValue } from './fold-constants.js';
import { emitLoraBranch, type BranchValues } from './lora-branch.js';
import { emitMorBranch } from './mor-branch.js';

/** Options of {@link applyAdapter}. */
export interface ApplyAdapterOptions {
  /**
   * MoR/MoELoRA routing; default `top-k` when the adapter config has `topK`, else `dense`. Ignored for LoRA.
   * MoELoRA has no `static` routing.
   */
  routing?: 'dense' | 'top-k' | 'static';
  /** k for top-k routing (default: the config's `topK`). */
  topK?: number;
  /** Gate vector `[N]` for static routing (required then). */
  gate?: ArrayLike<number>;
  /** Make adapter parameters graph inputs (same names) instead of initializers — what training needs. */
  paramsAsInputs?: boolean;
  /** Add graph outputs `mor_gates.<module>` (`[..., N]` gates; `[N]` for static routing). */
  exposeGates?: boolean;
  /**
   * Inference form (MoR and MoELoRA; not with `paramsAsInputs`): the branch of `mor-branch.ts` with every
   * parameter-only product folded into constants (`fold-constants.ts`) — A and the router as one MatMul, the expert
   * outer product by a 0/1 selector MatMul, no shape ops, static routing a plain rank-r LoRA. Same results up to
   * float32 rounding; parameters are then not under their own names (`params` lists the folded constants
   * `.down`, `.expand`, `.up`, …). Much faster for one-token decode steps.
   */
  foldExperts?: boolean;
  /**
   * Training form (MoR and MoELoRA, with `paramsAsInputs`): keep `x·Aᵀ` its own MatMul so adapter dropout can drop x on that
   * edge alone; by default A and the router share one MatMul (faster). See `mor-branch.ts`.
   */
  separateDownProjection?: boolean;
  /** Prefix of parameter names: `<prefix>.<module>.A`; default the adapter kind (`mor`, `moelora`, `lora`). */
  prefix?: string;
}

/** A parameter as placed in the graph. */
export interface AdapterParam {
  dims: number[];
  data: Float32Array;
  /** The adapter module it belongs to, e.g. `model.layers.0.mlp.gate_proj`. */
  module: string;
  /**
   * Its tensor within the module: `A`, `B`, `omegaA`, `omegaB`, `routerWeight`, `routerBias` (MoELoRA: `A`
   * `[N·r, d_in]`, `B` `[N, d_out, r]`, the router; folded: `down`, `up`, …).
   */
  tensor: string;
}

/** What {@link applyAdapter} did. */
export interface ApplyAdapterResult {
  /** The model given, patched in place. */
  model: ModelProto;
  /** Adapter module → the layer it patched. */
  layers: Map<string, LinearLayer>;
  /** Parameter name → value (graph inputs to feed when `paramsAsInputs`, else the initializers added). */
  params: Map<string, AdapterParam>;
  /** Names of the gate outputs added by `exposeGates`. */
  gateOutputs: string[];
}

function routingOf(adapter: AdapterInput, o: ApplyAdapterOptions): MorRouting {
  if (adapter.kind === 'lora') return { mode: 'dense' };
  const n = adapter.config.experts;
  const mode = o.routing ?? (adapter.config.topK ? 'top-k' : 'dense');
  if (mode === 'static' && adapter.kind === 'moelora')
    throw new GraphError('a MoELoRA adapter has no static routing (its router is part of the adapter)');
  if (mode === 'static') {
    if (!o.gate || o.gate.length !== n)
      throw new GraphError(`static routing needs a gate of ${n} values (options.gate)`);
    return { mode, gate: Float32Array.from(o.gate) };
  }
  if (mode === 'top-k') {
    const k = o.topK ?? adapter.config.topK;
    if (!k || k < 1 || k > n) throw new GraphError(`top-k routing needs 1 ≤ k ≤ ${n}, got ${k}`);
    return { mode, k };
  }
  return { mode: 'dense' };
}

/** Adds a parameter as an initializer or a graph input; returns its name. */
function addParam(
  graph: GraphProto,
  names: UniqueNames,
  params: Map<string, AdapterParam>,
  asInput: boolean,
  prefix: string,
  param: AdapterParam,
): string {
  const name = names.take(`${prefix}.${param.module}.${param.tensor}`);
  if (asInput) graph.input.push(tensorValueInfo(name, TensorProto_DataType.FLOAT, param.dims));
  else graph.initializer.push(floatTensor(name, param.dims, param.data));
  params.set(name, param);
  return name;
}

/**
 * Inserts the adapter's branch next to each target layer (mor-spec.md §2 for MoR, PEFT's form for LoRA) and adds
 * it to the layer output, so every consumer (and graph output) sees `y + delta`. All input/output names of the
 * model are kept. The branch computes in float32 beside the base layer (quantized layers keep their kernels).
 * The model is modified in place.
 */
export function applyAdapter(
  model: ModelProto,
  adapter: AdapterInput,
  options: ApplyAdapterOptions = {},
): ApplyAdapterResult {
  const graph = modelGraph(model);
  const layers = matchTargets(findLinearLayers(model), adapterShapes(adapter));
  const opset = opsetVersion(model) ?? DEFAULT_OPSET;
  const routing = routingOf(adapter, options);
  const asInput = options.paramsAsInputs ?? false;
  if (options.foldExperts && asInput)
    throw new GraphError('foldExperts needs parameters as initializers, not paramsAsInputs');
  const prefix = options.prefix ?? adapter.kind;
  const names = new UniqueNames(graph);
  const index = new GraphIndex(graph);
  const params = new Map<string, AdapterParam>();
  const gateOutputs: string[] = [];
  for (const group of groupByOutput(layers)) {
    const [firstModule, first] = group[0]!;
    const anchor = index.producers.get(first.output);
    if (!anchor) throw new GraphError('layer output has no producing node', first.output);
    // One builder per layer output, so a packed layer's part branches and the Concat joining them are emitted in
    // order; node names are scoped by the adapter module (or by the packed layer for its parts).
    const b = new GraphBuilder(graph, {
      names,
      opset,
      scope: `/${prefix}/${first.part ? first.part.packed : firstModule}`,
      place: { after: anchor },
    });
    const added = graph.initializer.length;
    const foldValues = new Map<string, FoldValue>();
    const labels = new Map<string, string>();
    const fold = options.foldExperts && adapter.kind !== 'lora';
    const deltas = new Map<string, string>();
    for (const [module, layer] of group) {
      const param = (tensor: string, dims: number[], data: Float32Array) => {
        if (!fold) return addParam(graph, names, params, asInput, prefix, { module, tensor, dims, data });
        const name = names.take(`${prefix}.${module}.${tensor}`);
        foldValues.set(name, { dims, data: Float64Array.from(data) });
        return name;
      };
      const out = emitBranch(b, module, layer, param);
      for (const [v, tensor] of out.products) labels.set(v, `${prefix}.${module}.${tensor}`);
      deltas.set(module, castOut(b, out.delta, layer.dtype));
      if (options.exposeGates && out.gates) {
        const name = b.op1('Identity', [out.gates], {}, names.take(`mor_gates.${module}`));
        graph.output.push(tensorValueInfo(name, TensorProto_DataType.FLOAT));
        gateOutputs.push(name);
      }
    }
    // The layer now writes to a fresh value; an Add writes y + delta under the original name (a packed layer: the
    // Concat of its column blocks, each adapted part's block plus its delta).
    const base = names.take(`${first.output}_base`);
    anchor.output[anchor.output.indexOf(first.output)] = base;
    if (!first.part) b.op1('Add', [base, deltas.get(firstModule)!], {}, first.output);
    else joinPackedParts(b, base, first.output, group, deltas);
    // The inference form: every parameter-only product becomes a constant named `<prefix>.<module>.<tensor>`.
    if (fold) {
      const folded = foldConstants(graph, b.emitted, {
        values: foldValues,
        added: graph.initializer.slice(added),
        labels,
        names,
      });
      for (const [name, v] of folded) {
        const module = group.map(([m]) => m).find((m) => name.startsWith(`${prefix}.${m}.`))!;
        const tensor = name.slice(`${prefix}.${module}.`.length);
        params.set(name, { module, tensor, dims: v.dims, data: Float32Array.from(v.data) });
      }
    }
  }

  /** The branch of one adapter module (its delta in float32, its parameter-only products, its gates). */
  function emitBranch(
    b: GraphBuilder,
    module: string,
    layer: LinearLayer,
    param: (tensor: string, dims: number[], data: Float32Array) => string,
  ): BranchValues {
    const x = castIn(b, layer.input, layer.dtype);
    if (adapter.kind === 'lora') {
      const w = adapter.layers.get(module)!;
      const p = { A: param('A', [w.r, w.dIn], w.A), B: param('B', [w.dOut, w.r], w.B) };
      return emitLoraBranch(b, x, p, adapter.scaling);
    }
    const { r, experts: n } = adapter.config;
    const router = routing.mode !== 'static';
    const w = adapter.layers.get(module)!;
    if (w.r !== r || w.experts !== n)
      throw new GraphError(`weights have r ${w.r}, N ${w.experts}; config says r ${r}, N ${n}`, module);
    let p: Parameters<typeof emitMorBranch>[2];
    if (adapter.kind === 'mor') {
      const m = adapter.layers.get(module)!;
      p = {
        A: param('A', [r, m.dIn], m.A),
        B: param('B', [m.dOut, r], m.B),
        omegaA: param('omegaA', [n, r], m.omegaA),
        omegaB: param('omegaB', [n, m.dOut], m.omegaB),
        ...(router ? { routerWeight: param('routerWeight', [n, m.dIn], m.routerWeight) } : {}),
        ...(router && m.routerBias ? { routerBias: param('routerBias', [n], m.routerBias) } : {}),
      };
    } else {
      const m = adapter.layers.get(module)!;
      p = {
        kind: 'moelora',
        A: param('A', [n * r, m.dIn], m.A),
        B: param('B', [n, m.dOut, r], m.B),
        routerWeight: param('routerWeight', [n, m.dIn], m.routerWeight),
        ...(m.routerBias ? { routerBias: param('routerBias', [n], m.routerBias) } : {}),
      };
    }
    return emitMorBranch(b, x, p, {
      n,
      r,
      scaling: morScaling(adapter.config),
      routing,
      // Training differentiates the softmax over N; inference (and opsets the autodiff does not take) spreads
      // first, one kernel less.
      softmaxOver: asInput && b.opset >= 13 ? 'experts' : 'copies',
      separateDownProjection: asInput && !!options.separateDownProjection,
      exposeGates: !!options.exposeGates,
    });
  }
  return { model, layers, params, gateOutputs };
}

/** The matched layers grouped by the value they write: one per layer, the parts of a packed layer together (by offset). */
function groupByOutput(layers: Map<string, LinearLayer>): Array<Array<[string, LinearLayer]>> {
  const groups = new Map<string, Array<[string, LinearLayer]>>();
  for (const entry of layers) {
    const g = groups.get(entry[1].output);
    if (g) g.push(entry);
    else groups.set(entry[1].output, [entry]);
  }
  for (const g of groups.values()) g.sort((a, b) => (a[1].part?.offset ?? 0) - (b[1].part?.offset ?? 0));
  return [...groups.values()];
}

/**
 * `out = Concat(column blocks of base)` on the last axis, each adapted part's block with its delta added: the packed
 * layer's output with q, k and v adapted independently. Blocks no adapter module targets pass through.
 */
function joinPackedParts(
  b: GraphBuilder,
  base: string,
  out: string,
  group: Array<[string, LinearLayer]>,
  deltas: Map<string, string>,
): void {
  const { packedDOut } = group[0]![1].part!;
  const cuts = [
    ...new Set([0, ...group.flatMap(([, l]) => [l.part!.offset, l.part!.offset + l.dOut]), packedDOut]),
  ];
  cuts.sort((x, y) => x - y);
  const blocks: string[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const block = b.op1('Slice', [base, b.i64([cuts[i]!]), b.i64([cuts[i + 1]!]), b.i64([-1])]);
    const owner = group.find(([, l]) => l.part!.offset === cuts[i]);
    blocks.push(owner ? b.op1('Add', [block, deltas.get(owner[0])!]) : block);
  }
  b.op('Concat', blocks, { axis: { int: -1 } }, [out]);
}

/** Casts to float32 when the layer runs in float16 (the branch always computes in float32). */
function castIn(b: GraphBuilder, x: string, dtype: 'float32' | 'float16'): string {
  return dtype === 'float16' ? b.op1('Cast', [x], { to: { int: TensorProto_DataType.FLOAT } }) : x;
}

/** Casts the branch output back to the layer's dtype. */
function castOut(b: GraphBuilder, delta: string, dtype: 'float32' | 'float16'): string {
  return dtype === 'float16' ? b.op1('Cast', [delta], { to: { int: TensorProto_DataType.FLOAT16 } }) : delta;
}
