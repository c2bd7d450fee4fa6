import { fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  addCausalLmLoss,
  applyAdapter,
  buildTrainStep,
  decomposeFusedOps,
  opsetVersion,
  type AdapterInput,
} from '@mor/onnx';
import { ModelProtoSchema } from 'onnx-buf';
import ort from 'onnxruntime-node';
import type { BuiltModel } from '../src/index.js';

const i64 = (rows: number[][]) =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);

/** Opens a session on the graph bytes (default: onnxruntime-node's CPU EP). */
export type OpenSession = (bytes: Uint8Array) => Promise<ort.InferenceSession>;

export interface SgdStepResult {
  loss: number;
  /** Parameter name → its value after the step. */
  params: Map<string, Float32Array>;
  /** Parameter name → its value before the step. */
  initial: Map<string, Float32Array>;
}

/**
 * One SGD step (lr 0.5) on a causal-LM batch through the train graph of `built` with `adapter`: fused builder ops
 * decomposed, the KV cache fed empty (as packages/engine train/model-inputs.ts does).
 */
export async function sgdStep(
  built: BuiltModel,
  adapter: AdapterInput,
  ids: number[][],
  open: OpenSession = (bytes) => ort.InferenceSession.create(bytes),
): Promise<SgdStepResult> {
  const model = fromBinary(ModelProtoSchema, built.onnx);
  const graph = model.graph!;
  const opset = opsetVersion(model)!;
  graph.output = graph.output.filter((o) => o.name === 'logits');
  const { params } = applyAdapter(model, adapter, { paramsAsInputs: true });
  decomposeFusedOps(graph, { opset });
  addCausalLmLoss(graph, { logits: 'logits', loss: 'loss', opset });
  const step = buildTrainStep(graph, {
    loss: 'loss',
    params: [...params.keys()],
    optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 },
    opset,
  });
  const s = await open(toBinary(ModelProtoSchema, model));
  const c = built.cache!;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: i64(ids),
    attention_mask: i64(ids.map((r) => r.map(() => 1))),
    labels: i64(ids),
    lr: new ort.Tensor('float32', Float32Array.of(0.5), []),
  };
  if (s.inputNames.includes('position_ids')) feeds.position_ids = i64(ids.map((r) => r.map((_, j) => j)));
  for (let i = 0; i < c.layers; i++)
    for (const kind of ['key', 'value'])
      feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [
        ids.length,
        c.kvHeads,
        0,
        c.headDim,
      ]);
  for (const [name, p] of params) feeds[name] = new ort.Tensor('float32', p.data, p.dims);
  const out = await s.run(feeds);
  await s.release();
  const updated = new Map([...step.params].map(([p, o]) => [p, out[o]!.data as Float32Array]));
  const initial = new Map([...params].map(([k, p]) => [k, p.data]));
  return { loss: Number((out.loss!.data as Float32Array)[0]), params: updated, initial };
}

/** The largest difference between two parameter maps (same names, in the same order). */
export function maxParamDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  const keys = [...a.keys()];
  if (keys.join() !== [...b.keys()].join()) throw new Error(`parameters differ: ${keys} vs ${[...b.keys()]}`);
  let m = 0;
  for (const [k, v] of a) {
    const w = b.get(k)!;
    if (v.length !== w.length) throw new Error(`${k}: ${v.length} vs ${w.length} values`);
    for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]! - w[i]!));
  }
  return m;
}
