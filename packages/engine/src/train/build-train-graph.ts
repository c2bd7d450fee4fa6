import {
  addCausalLmLoss,
  addClassificationLoss,
  applyAdapter,
  buildTrainStep,
  DataType,
  DEFAULT_OPSET,
  decodeModel,
  decomposeFusedOps,
  DataLocation,
  externalDataInfo,
  modelTensors,
  opsetVersion,
  WEBGPU_MAX_FUSED_TENSORS,
  type ModelProto,
  type TrainStepOptions,
} from '@mor/onnx';
import { encodeForSession, type SessionModel } from '../session-model.js';
import { addAdapterDropout } from './adapter-dropout.js';
import type { AdapterTensorRef } from './adapter-from-params.js';
import { withoutDynamicShapes } from './dynamic-shapes.js';
import { inReadyOrder } from './ready-order.js';
import { encodeEvalModel } from './eval-outputs.js';
import { encodeIdentityModel } from './identity-model.js';
import { makeBaseWeightsTrainable } from './full-targets.js';
import { ACCUM_INPUTS, addGradientAccumulation } from './grad-accumulation.js';
import type { LossScalingOptions } from './grad-scaler.js';
import { addOverflowSkip, scaleLoss } from './loss-scaling.js';
import { prepareModelInputs, type ModelInputLayout } from './model-inputs.js';
import { addRouterAuxLoss } from './router-aux-loss.js';
import { TrainSetupError } from './train-errors.js';
import type { HostTensor, TrainSessionOptions } from './types.js';

/** The two graphs of a training session and how to feed them. */
export interface TrainGraphs {
  /** forward → loss → gradients → update: one `run` per (micro-)step. */
  trainModel: SessionModel;
  /** forward → loss (+ `correct` for seq-cls), parameters as inputs: evaluation. */
  evalModel: SessionModel;
  layout: ModelInputLayout;
  /** Trainable tensors (graph inputs) with their initial values. */
  params: Map<string, HostTensor>;
  /** Parameter → the adapter tensor it is (empty for `full`). */
  adapterTensors: Map<string, AdapterTensorRef>;
  /** Every carried tensor input (parameters, optimizer state, accumulators) → the output holding its next value. */
  carried: Map<string, string>;
  /** Optimizer/accumulator state input → the parameter whose shape it has (starts at zeros). */
  stateOf: Map<string, string>;
  /** The optimizer's state inputs (what a checkpoint saves). */
  optimizerState: string[];
  /** The gradient accumulators' inputs (zeroed when a checkpoint is restored). */
  accumulators: string[];
  /** Gradient output per parameter (with `outputGradients`). */
  gradients: Map<string, string>;
  /** Float scalar inputs besides the accumulation ones: `lr`, and `step` for AdamW. */
  scalarInputs: string[];
  accumulate: boolean;
  /** The graph has adapter dropout: feed `dropout_step` (int32 scalar, the micro-batch number) each run. */
  hasDropout: boolean;
  hasAuxLoss: boolean;
  hasGradNorm: boolean;
  /** Dynamic loss scaling's options when it is on: feed `loss_scale`, read `found_inf` (loss-scaling.ts). */
  lossScaling: LossScalingOptions | null;
  /** External data files the graphs reference in `externalDataDir` (the session's files link to them). */
  linkedFiles: string[];
  /** Identity models that copy the parameters / the optimizer state to the host (see DeviceState.download). */
  downloads: { params: Uint8Array; state: Uint8Array | null };
}

/** Loss scaling's options: given, else GradScaler's defaults for a float16 model; null when off. */
function lossScalingOf(o: TrainSessionOptions, float16: boolean): LossScalingOptions | null {
  if (o.lossScaling === false) return null;
  return o.lossScaling ?? (float16 ? {} : null);
}

function optimizerOf(o: TrainSessionOptions): TrainStepOptions['optimizer'] {
  const s = o.optimizer;
  if (s.kind === 'sgd') return { kind: 'sgd', momentum: s.momentum ?? 0, weightDecay: s.weightDecay ?? 0 };
  if (s.kind === 'adamw')
    return {
      kind: 'adamw',
      beta1: s.betas?.[0],
      beta2: s.betas?.[1],
      eps: s.eps,
      weightDecay: s.weightDecay,
    };
  throw new TrainSetupError(
    `unknown optimizer "${String((s as { kind: unknown }).kind)}": expected sgd, adamw`,
  );
}

/** Adapter parameters (or base weights for `full`) become graph inputs; returns their values. */
function trainables(model: ModelProto, o: TrainSessionOptions, exposeGates: boolean) {
  if (o.method === 'full') {
    if (!o.fullTargets?.length) throw new TrainSetupError('method "full" needs fullTargets');
    return {
      params: makeBaseWeightsTrainable(model, o.fullTargets),
      tensors: new Map(),
      gates: [] as string[],
    };
  }
  if (o.method !== 'mor' && o.method !== 'moelora' && o.method !== 'lora')
    throw new TrainSetupError(`unknown method "${String(o.method)}": expected mor, moelora, lora, full`);
  if (!o.adapter || o.adapter.kind !== o.method)
    throw new TrainSetupError(
      `method "${o.method}" needs a ${o.method} adapter (got ${o.adapter?.kind ?? 'none'})`,
    );
  // Dropout drops x on the x·Aᵀ edge alone, so that MatMul must stay apart from the router's.
  const applied = applyAdapter(model, o.adapter, {
    paramsAsInputs: true,
    exposeGates,
    separateDownProjection: dropoutOf(o) > 0,
  });
  const tensors = new Map(
    [...applied.params].map(([name, p]) => [name, { module: p.module, tensor: p.tensor }]),
  );
  return { params: new Map<string, HostTensor>(applied.params), tensors, gates: applied.gateOutputs };
}

/** The adapter's input-dropout probability (MoR/MoELoRA config, or PEFT's `lora_dropout`). */
function dropoutOf(o: TrainSessionOptions): number {
  if (o.adapter !== undefined && o.adapter.kind !== 'lora') return o.adapter.config.dropout;
  const p = o.adapter?.rawConfig['lora_dropout'];
  return typeof p === 'number' ? p : 0;
}

/**
 * Builds the evaluation graph and the one-run train step from the base model (mor-spec §4): decode → (KV
 * export: empty past, no present) → trainable tensors as inputs → fused ops decomposed → loss → (dropout,
 * router load-balancing loss) → gradients of the trainable tensors only → clipping → SGD/AdamW → (accumulation).
 */
export async function buildTrainGraphs(o: TrainSessionOptions): Promise<TrainGraphs> {
  try {
    return await build(o);
  } catch (error) {
    if (error instanceof TrainSetupError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const context = (error as { context?: Record<string, string> }).context ?? {};
    throw new TrainSetupError(`cannot build the train graph: ${message}`, context, { cause: error });
  }
}

/** Reports `decode`, `graph` and `encode` times to `o.onSetupPhase`; the graphs' encodings are interleaved with
 * the graph passes (the eval graph is encoded before the backward is added), so `graph` excludes them. */
function phaseClock(o: TrainSessionOptions) {
  const start = performance.now();
  let decoded = start;
  let encodeMs = 0;
  return {
    decoded: () => {
      decoded = performance.now();
      o.onSetupPhase?.('decode', decoded - start);
    },
    encode: <T>(f: () => T): T => {
      const t = performance.now();
      try {
        return f();
      } finally {
        encodeMs += performance.now() - t;
      }
    },
    done: () => {
      o.onSetupPhase?.('graph', performance.now() - decoded - encodeMs);
      o.onSetupPhase?.('encode', encodeMs);
    },
  };
}

/** The external data files `model`'s tensors still reference (not loaded by decodeModel). */
function referencedFiles(model: ModelProto): string[] {
  const files = new Set<string>();
  for (const t of modelTensors(model))
    if (t.dataLocation === DataLocation.EXTERNAL) {
      const location = externalDataInfo(t)['location'];
      if (location !== undefined) files.add(location);
    }
  return [...files];
}

async function build(o: TrainSessionOptions): Promise<TrainGraphs> {
  const clock = phaseClock(o);
  if (o.externalDataDir !== undefined && o.externalData)
    throw new TrainSetupError('give externalData or externalDataDir, not both');
  // With externalDataDir the weights stay external references: never read here (decode-model.ts).
  const model = await decodeModel(o.model, o.externalData ? { externalData: o.externalData } : {});
  clock.decoded();
  const linkedFiles = referencedFiles(model);
  if (linkedFiles.length > 0 && o.externalDataDir === undefined)
    throw new TrainSetupError(
      `the model's weights are in external data files (${linkedFiles.slice(0, 3).join(', ')}${linkedFiles.length > 3 ? ', …' : ''}): pass externalData or externalDataDir`,
    );
  const graph = model.graph!;
  const opset = opsetVersion(model) ?? DEFAULT_OPSET;
  const layout = prepareModelInputs(graph);
  // MoR and MoELoRA both have a router, so both take the load-balancing loss.
  const routed = o.adapter !== undefined && o.adapter.kind !== 'lora' ? o.adapter : null;
  const coef = o.routerAuxLossCoef ?? routed?.config.routerAuxLossCoef ?? 0;
  const hasAuxLoss = routed !== null && o.method === routed.kind && coef > 0;
  // fp16 / q4f16 files: the base computes in float16 (the loss is taken in float32 from a Cast of the logits).
  const float16Logits = graph.output.some(
    (v) =>
      v.name === 'logits' &&
      v.type?.value.case === 'tensorType' &&
      v.type.value.value.elemType === DataType.FLOAT16,
  );
  if (float16Logits && o.method === 'full')
    throw new TrainSetupError(
      'method "full" trains base weights, and this model computes in float16 (an fp16/q4f16 file): train an adapter (mor, lora) on it, or train the fp32 file',
    );
  const { params, tensors, gates } = trainables(model, o, hasAuxLoss);
  decomposeFusedOps(graph, { opset });
  const common = { logits: 'logits', loss: 'loss', opset };
  if (o.task === 'causal-lm') addCausalLmLoss(graph, common);
  else if (o.task === 'seq-cls') addClassificationLoss(graph, common);
  else throw new TrainSetupError(`unknown task "${String(o.task)}": expected causal-lm, seq-cls`);
  const evalModel = clock.encode(() =>
    withoutDynamicShapes(model, () => encodeEvalModel(model, o.task, opset, o.externalDataThreshold)),
  );

  const p = o.method === 'full' ? 0 : dropoutOf(o);
  const downProjections = [...tensors].filter(([, t]) => t.tensor === 'A').map(([name]) => name);
  if (p > 0) addAdapterDropout(graph, { downProjections, p, seed: o.dropoutSeed ?? 0, opset });
  graph.output = graph.output.filter((v) => v.name === 'loss' || gates.includes(v.name));
  const experts = routed?.config.experts ?? 0;
  const attentionMask = layout.hasAttentionMask ? 'attention_mask' : undefined;
  const loss = hasAuxLoss
    ? addRouterAuxLoss(graph, { gates, experts, coef, loss: 'loss', attentionMask, opset })
    : 'loss';
  const maxGradNorm = o.optimizer.maxGradNorm ?? undefined;
  const lossScaling = lossScalingOf(o, float16Logits);
  const step = buildTrainStep(graph, {
    loss: lossScaling ? scaleLoss(graph, loss, opset) : loss,
    params: [...params.keys()],
    optimizer: optimizerOf(o),
    maxGradNorm,
    // WebGPU binds every Concat input as a storage buffer (as few as 8 per shader): small groups there only.
    maxFusedTensors: (o.device ?? 'cpu') === 'webgpu' ? WEBGPU_MAX_FUSED_TENSORS : Infinity,
    opset,
    checkpointing: o.gradientCheckpointing ?? false,
  });
  const gradOutputs = new Set(step.gradients.values());
  if (!o.outputGradients) graph.output = graph.output.filter((v) => !gradOutputs.has(v.name));
  const carried = new Map([...step.params, ...step.state]);
  const stateOf = new Map(step.stateOf);
  const accumulate = (o.gradAccum ?? 1) > 1;
  let gradients = new Map(o.outputGradients ? step.gradients : []);
  const paramDims = new Map([...params].map(([k, v]) => [k, v.dims]));
  const accumulators: string[] = [];
  if (accumulate) {
    const added = addGradientAccumulation(graph, step, paramDims, opset);
    for (const [acc, out] of added.state) carried.set(acc, out);
    for (const [acc, param] of added.stateOf) stateOf.set(acc, param);
    accumulators.push(...added.state.keys());
    if (o.outputGradients) gradients = new Map([...gradients].map(([k, g]) => [k, `${g}.micro`]));
  }
  if (lossScaling) addOverflowSkip(graph, step, opset);
  const optimizerState = [...step.state.keys()];
  const optState = optimizerState.map((s): [string, number[]] => [s, paramDims.get(step.stateOf.get(s)!)!]);
  const [downloads, trainModel] = clock.encode(() => [
    {
      params: encodeIdentityModel(model, paramDims),
      state: optState.length ? encodeIdentityModel(model, new Map(optState)) : null,
    },
    withoutDynamicShapes(model, () =>
      inReadyOrder(model, () => encodeForSession(model, o.externalDataThreshold)),
    ),
  ]);
  clock.done();
  return {
    linkedFiles,
    downloads,
    trainModel,
    evalModel,
    layout,
    params,
    adapterTensors: tensors,
    carried,
    stateOf,
    optimizerState,
    accumulators,
    gradients,
    scalarInputs: step.scalarInputs,
    accumulate,
    hasDropout: p > 0,
    hasAuxLoss,
    hasGradNorm: maxGradNorm !== undefined,
    lossScaling,
  };
}

export { ACCUM_INPUTS };
