import { TensorProto_DataType as DataType, type GraphProto } from 'onnx-buf';
import { autodiffBuilder } from '../builder.js';
import { collectStaticInfo } from '../static-info.js';
import { addScalarInput, addStateInput, exposeUpdated, type ParamGrad } from './optimizer-io.js';

/** Options of {@link emitSgdUpdate}. */
export interface SgdUpdateOptions {
  params: ParamGrad[];
  /** Float scalar graph input holding the step's learning rate (added when missing). Default `lr`. */
  lr?: string;
  /** Momentum factor; > 0 adds a state input `opt.momentum.<param>` per parameter. */
  momentum?: number;
  /** Coupled L2 weight decay. */
  weightDecay?: number;
  opset?: number;
  floatType?: DataType.FLOAT | DataType.DOUBLE;
}

/** Names of the step's outputs: updated parameter and state per parameter. */
export interface OptimizerOutputs {
  /** param → `updated.<param>` output. */
  params: Map<string, string>;
  /** state input → `updated.<state>` output (feed the output back as the input on the next step). */
  state: Map<string, string>;
  /** state input → the parameter it belongs to (and whose shape it has). */
  stateOf: Map<string, string>;
}

/** Emits the SGD update of {@link sgdReference} as graph ops; one session.run then also updates. */
export function emitSgdUpdate(graph: GraphProto, options: SgdUpdateOptions): OptimizerOutputs {
  const floatType = options.floatType ?? DataType.FLOAT;
  const b = autodiffBuilder(graph, '/sgd', options.opset, floatType);
  const info = collectStaticInfo(graph);
  const lr = options.lr ?? 'lr';
  addScalarInput(graph, lr, floatType);
  const result: OptimizerOutputs = { params: new Map(), state: new Map(), stateOf: new Map() };
  for (const { param, grad } of options.params) {
    // 1. coupled weight decay: g ← g + wd·p
    let g = options.weightDecay
      ? b.op1('Add', [grad, b.op1('Mul', [param, b.f(options.weightDecay)])])
      : grad;
    // 2. momentum buffer: buf ← μ·buf + g
    if (options.momentum) {
      const buffer = addStateInput(graph, info, 'momentum', param, floatType);
      g = b.op1('Add', [b.op1('Mul', [buffer, b.f(options.momentum)]), g]);
      result.state.set(buffer, exposeUpdated(b, info, g, buffer));
      result.stateOf.set(buffer, param);
    }
    // 3. descent: p ← p − lr·buf
    const next = b.op1('Sub', [param, b.op1('Mul', [g, lr])]);
    result.params.set(param, exposeUpdated(b, info, next, param));
  }
  return result;
}
