import type { GraphProto, ValueInfoProto } from '@mor/onnx';
import { TrainSetupError } from './train-errors.js';

/** A KV-cache input fed as an empty past: its declared dims with the batch filled in and the rest 0. */
export interface PastInput {
  name: string;
  /** Declared dims: numbers, or symbolic names (the first is the batch, the others become 0). */
  dims: (number | string)[];
  /** Declared element type: float16 in fp16 / q4f16 files, else float32. */
  type: 'float32' | 'float16';
}

/** Which inputs the base graph takes besides the parameters, so each batch can be fed. */
export interface ModelInputLayout {
  hasAttentionMask: boolean;
  hasPositionIds: boolean;
  hasTokenTypeIds: boolean;
  /** `past_key_values.*` inputs of a KV-cache export, fed with zero-length past. */
  past: PastInput[];
}

const dimsOf = (v: ValueInfoProto): (number | string)[] => {
  if (v.type?.value.case !== 'tensorType') return [];
  return (v.type.value.value.shape?.dim ?? []).map((d) =>
    d.value.case === 'dimValue' ? Number(d.value.value) : d.value.case === 'dimParam' ? d.value.value : '?',
  );
};

/**
 * Reads the base model's inputs and trims its outputs to `logits`: a KV-cache export keeps its
 * `past_key_values.*` inputs (fed empty, so attention sees only the batch) and loses its `present.*` outputs,
 * which training never reads (on WebGPU they would otherwise be copied out each step). Mutates `graph`.
 */
export function prepareModelInputs(graph: GraphProto): ModelInputLayout {
  const names = new Set(graph.input.map((i) => i.name));
  if (!names.has('input_ids'))
    throw new TrainSetupError(`the model has no "input_ids" input (inputs: ${[...names].join(', ')})`);
  if (!graph.output.some((o) => o.name === 'logits'))
    throw new TrainSetupError(
      `the model has no "logits" output (outputs: ${graph.output.map((o) => o.name).join(', ')})`,
    );
  graph.output = graph.output.filter((o) => o.name === 'logits');
  const past = graph.input
    .filter((i) => i.name.startsWith('past_key_values'))
    .map((i) => ({
      name: i.name,
      dims: dimsOf(i),
      type:
        i.type?.value.case === 'tensorType' && i.type.value.value.elemType === 10 /* FLOAT16 */
          ? ('float16' as const)
          : ('float32' as const),
    }));
  for (const p of past)
    if (p.dims.length === 0)
      throw new TrainSetupError(`KV-cache input "${p.name}" has no declared shape`, { tensor: p.name });
  const known = new Set(['input_ids', 'attention_mask', 'position_ids', 'token_type_ids']);
  const unknown = [...names].filter((n) => !known.has(n) && !n.startsWith('past_key_values'));
  if (unknown.length > 0)
    throw new TrainSetupError(`the model takes inputs training cannot feed: ${unknown.join(', ')}`);
  return {
    hasAttentionMask: names.has('attention_mask'),
    hasPositionIds: names.has('position_ids'),
    hasTokenTypeIds: names.has('token_type_ids'),
    past,
  };
}

/** Dims of the zero-length past for `batchSize` rows: batch first, the past length (any other name) 0. */
export function emptyPastDims(p: PastInput, batchSize: number): number[] {
  return p.dims.map((d, i) => (typeof d === 'number' ? d : i === 0 ? batchSize : 0));
}
