import { TensorProto_DataType as DataType, type GraphProto } from 'onnx-buf';
import { buildGradientGraph } from './build-gradient-graph.js';
import { emitAdamWUpdate } from './optim/emit-adamw.js';
import { emitClipGradNorm } from './optim/emit-clip-grad-norm.js';
import { emitSgdUpdate, type OptimizerOutputs } from './optim/emit-sgd.js';
import type { AdamWHyper } from './reference/adamw.js';
import type { SgdHyper } from './reference/sgd.js';

/** Options of {@link buildTrainStep}. */
export interface TrainStepOptions {
  /** Scalar loss tensor already in the graph (see addCausalLmLoss / addClassificationLoss). */
  loss: string;
  /** Trainable tensors: graph inputs (see initializersToInputs). */
  params: string[];
  /** Optimizer and its fixed hyper-parameters; the learning rate is the float scalar input `lr` of each run. */
  optimizer: ({ kind: 'sgd' } & Omit<SgdHyper, 'lr'>) | ({ kind: 'adamw' } & Omit<AdamWHyper, 'lr'>);
  /** Clip gradients to this global L2 norm before the update (adds output `grad_norm`). */
  maxGradNorm?: number;
  /** AdamW: most tensors one fused update concatenates (see AdamWUpdateOptions.maxFusedTensors). */
  maxFusedTensors?: number;
  opset?: number;
  floatType?: DataType.FLOAT | DataType.DOUBLE;
  /** Gradient checkpointing: recompute each decoder layer's forward in the backward (GradientGraphOptions). */
  checkpointing?: boolean;
}

/** What the train-step graph takes and gives besides the forward graph's own inputs/outputs. */
export interface TrainStep extends OptimizerOutputs {
  /** Gradient output per parameter (`grad.<param>`). */
  gradients: Map<string, string>;
  /** Scalar inputs to feed each step: `lr`, plus `step` (t from 1) for AdamW. */
  scalarInputs: string[];
  /** With `checkpointing`: the layers recomputed in the backward, in walk order. */
  recomputedLayers: number[];
}

/**
 * Turns a forward+loss graph into one train step: backward pass, optional clipping and the optimizer update,
 * so one `session.run` = forward + backward + update. Feed `updated.*` outputs back as the next step's inputs.
 * Decompose fused ops first (decomposeFusedOps).
 */
export function buildTrainStep(graph: GraphProto, options: TrainStepOptions): TrainStep {
  const common = { opset: options.opset, floatType: options.floatType ?? DataType.FLOAT };
  const { gradients, recomputedLayers } = buildGradientGraph(graph, {
    loss: options.loss,
    wrt: options.params,
    checkpointing: options.checkpointing ?? false,
    ...common,
  });
  let grads = gradients;
  if (options.maxGradNorm !== undefined) {
    const clipped = emitClipGradNorm(graph, {
      grads: [...gradients.values()],
      maxNorm: options.maxGradNorm,
      ...common,
    });
    grads = new Map([...gradients].map(([p, g]) => [p, clipped.get(g)!]));
  }
  const params = options.params.map((param) => ({ param, grad: grads.get(param)! }));
  const { optimizer } = options;
  const outputs =
    optimizer.kind === 'sgd'
      ? emitSgdUpdate(graph, { ...optimizer, params, ...common })
      : emitAdamWUpdate(graph, {
          ...optimizer,
          params,
          ...common,
          ...(options.maxFusedTensors !== undefined && { maxFusedTensors: options.maxFusedTensors }),
        });
  return {
    ...outputs,
    gradients,
    recomputedLayers,
    scalarInputs: optimizer.kind === 'sgd' ? ['lr'] : ['lr', 'step'],
  };
}
