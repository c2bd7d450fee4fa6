import {
  DataType,
  GraphBuilder,
  GraphIndex,
  UniqueNames,
  tensorValueInfo,
  updatedName,
  type GraphProto,
  type NodeProto,
  type TrainStep,
} from '@mor/onnx';

/** Scalar inputs of the accumulating train step. */
export const ACCUM_INPUTS = {
  /** float: weight of this micro-batch's gradient (its counted label positions). */
  weight: 'accum_weight',
  /** float: total weight of the accumulated micro-batches (read on the updating step only). */
  total: 'accum_total',
  /** bool: this micro-batch completes the accumulation: update the parameters. */
  apply: 'accum_apply',
} as const;

/** Accumulator input of a parameter. */
export const accumName = (param: string) => `accum.${param}`;

/** What {@link addGradientAccumulation} added: accumulator input → output, and → its parameter. */
export interface Accumulators {
  state: Map<string, string>;
  stateOf: Map<string, string>;
}

/**
 * Turns a train step (buildTrainStep) into an accumulating one, still one `session.run` per micro-batch:
 * `acc ← acc + w·g` on every run; on the run with `accum_apply` the gradient handed to clipping and the
 * optimizer is `acc / total`, so the update follows the mean loss over every label position of all micro-batches
 * (what one big batch gives); on other runs parameters and optimizer state pass through unchanged (`Where`).
 * Accumulators are state inputs `accum.<param>` with outputs `updated.accum.<param>` (zeroed after an update).
 * Mutates `graph`.
 */
export function addGradientAccumulation(
  graph: GraphProto,
  step: TrainStep,
  paramDims: ReadonlyMap<string, number[]>,
  opset: number,
): Accumulators {
  const index = new GraphIndex(graph);
  const names = new UniqueNames(graph);
  const scope = (s: string, after: NodeProto) =>
    new GraphBuilder(graph, { names, opset, scope: `/accum/${s}`, place: { after } });
  graph.input.push(
    tensorValueInfo(ACCUM_INPUTS.weight, DataType.FLOAT, []),
    tensorValueInfo(ACCUM_INPUTS.total, DataType.FLOAT, []),
    tensorValueInfo(ACCUM_INPUTS.apply, DataType.BOOL, []),
  );
  const added: Accumulators = { state: new Map(), stateOf: new Map() };
  for (const [param, grad] of step.gradients) {
    const producer = index.producers.get(grad)!;
    const micro = names.take(`${grad}.micro`);
    producer.output[producer.output.indexOf(grad)] = micro;
    for (const o of graph.output) if (o.name === grad) o.name = micro;
    const b = scope(param, producer);
    const acc = accumName(param);
    graph.input.push(tensorValueInfo(acc, DataType.FLOAT, paramDims.get(param)));
    const sum = b.op1('Add', [acc, b.op1('Mul', [micro, ACCUM_INPUTS.weight])]);
    b.op1('Div', [sum, ACCUM_INPUTS.total], {}, grad);
    const out = b.op1('Where', [ACCUM_INPUTS.apply, b.f(0, [], 'zero'), sum], {}, updatedName(acc));
    graph.output.push(tensorValueInfo(out, DataType.FLOAT, paramDims.get(param)));
    added.state.set(acc, out);
    added.stateOf.set(acc, param);
  }
  // Parameters and optimizer state change only on the updating run.
  gateUpdates(graph, step, ACCUM_INPUTS.apply, names, opset, 'accum');
  return added;
}

/**
 * Makes every update of `step` (parameters and optimizer state) conditional: where the bool scalar `condition` is
 * false the output is the unchanged input. Whatever produces an update (an Identity, a Reshape, one output of a
 * fused optimizer's Split, an earlier gate), its value is renamed and the original name re-made as
 * `Where(condition, update, input)`, placed right after that producer. Shared by gradient accumulation and loss
 * scaling's skip-on-overflow (loss-scaling.ts).
 */
export function gateUpdates(
  graph: GraphProto,
  step: TrainStep,
  condition: string,
  names: UniqueNames,
  opset: number,
  scope: string,
): void {
  for (const [input, output] of [...step.params, ...step.state]) {
    const producer = graph.node.find((n) => n.output.includes(output));
    if (!producer) throw new Error(`${scope}: no node produces ${output}`);
    const ungated = names.take(`${output}__ungated`);
    producer.output[producer.output.indexOf(output)] = ungated;
    new GraphBuilder(graph, { names, opset, scope: `/${scope}/${input}`, place: { after: producer } }).op1(
      'Where',
      [condition, ungated, input],
      {},
      output,
    );
  }
}
