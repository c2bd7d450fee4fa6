import {
  DataType,
  GraphBuilder,
  GraphIndex,
  UniqueNames,
  tensorValueInfo,
  type GraphProto,
  type NodeProto,
  type TrainStep,
} from '@mor/onnx';
import { gateUpdates } from './grad-accumulation.js';

/** Float32 scalar input: the loss is multiplied by it before the backward (grad-scaler.ts feeds it). */
export const LOSS_SCALE_INPUT = 'loss_scale';
/** Bool scalar output: the step's (unscaled) gradients held an inf or NaN, so nothing was updated. */
export const FOUND_INF_OUTPUT = 'found_inf';

/** `loss · loss_scale`, the tensor to differentiate (the reported `loss` stays unscaled). Mutates `graph`. */
export function scaleLoss(graph: GraphProto, loss: string, opset: number): string {
  graph.input.push(tensorValueInfo(LOSS_SCALE_INPUT, DataType.FLOAT, []));
  const b = new GraphBuilder(graph, { opset, scope: '/loss_scale' });
  return b.op1('Mul', [loss, LOSS_SCALE_INPUT]);
}

/**
 * After buildTrainStep (and gradient accumulation) on the scaled loss: each gradient the optimizer reads becomes
 * `scaled / loss_scale`; `found_inf` is true when any of them holds an inf or NaN (`IsNaN(Σ sum(0 · g))`: 0·inf and
 * 0·NaN are NaN, so one scalar tells); parameters and optimizer state then keep their input values (`Where`), as
 * GradScaler skips `optimizer.step()`. The gradients are float32 (the adapter's master weights), whatever the base
 * computes in. Mutates `graph`.
 */
export function addOverflowSkip(graph: GraphProto, step: TrainStep, opset: number): void {
  const index = new GraphIndex(graph);
  const names = new UniqueNames(graph);
  const at = (scope: string, after: NodeProto) =>
    new GraphBuilder(graph, { names, opset, scope: `/loss_scale/${scope}`, place: { after } });
  const unscaled: string[] = [];
  let last: NodeProto | undefined;
  for (const [param, grad] of step.gradients) {
    const producer = index.producers.get(grad)!;
    const scaled = names.take(`${grad}.scaled`);
    producer.output[producer.output.indexOf(grad)] = scaled;
    const b = at(param, producer);
    unscaled.push(b.op1('Div', [scaled, LOSS_SCALE_INPUT], {}, grad));
    if (!last || graph.node.indexOf(b.emitted[0]!) > graph.node.indexOf(last)) last = b.emitted.at(-1)!;
  }
  if (!last) return;
  // After the last unscaled gradient, before any update reads one.
  const b = at('found_inf', last);
  const zero = b.f(0, [], 'zero');
  const sums = unscaled.map((g) => b.reduceSum(b.op1('Mul', [g, zero]), undefined, false));
  const poisoned = sums.length === 1 ? sums[0]! : b.op1('Sum', sums);
  const foundInf = b.op1('IsNaN', [poisoned], {}, FOUND_INF_OUTPUT);
  graph.output.push(tensorValueInfo(foundInf, DataType.BOOL, []));
  gateUpdates(graph, step, b.op1('Not', [foundInf]), names, opset, 'loss_scale');
}
