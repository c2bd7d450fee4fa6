import { DataType, GraphBuilder, GraphIndex, UniqueNames, floatTensor, type GraphProto } from '@mor/onnx';
import { TrainSetupError } from './train-errors.js';

/** Options of {@link addAdapterDropout}. */
export interface AdapterDropoutOptions {
  /** The `A` parameter of each adapted layer (`mor.<module>.A` / `lora.<module>.A`). */
  downProjections: string[];
  /** Drop probability, 0 < p < 1. */
  p: number;
  /** Seed of the first layer's mask generator; layer i uses `seed + i`. */
  seed: number;
  opset: number;
}

/**
 * Inserts `lora_dropout` on the adapter input (mor-spec §1: `u = A · drop(x)`; the router and the base layer
 * keep `x`): `x · [U(0,1) ≥ p] / (1 − p)` before the `MatMul(x, Aᵀ)` of each layer. The uniform draws come from
 * an in-graph `RandomUniformLike` with a fixed `seed` attribute, so the masks are made on the device (no
 * per-step upload, any input shape) and a fresh session replays the same sequence of masks step after step.
 * Only the train graph gets this; evaluation runs without dropout. Mutates `graph`.
 */
export function addAdapterDropout(graph: GraphProto, o: AdapterDropoutOptions): void {
  const index = new GraphIndex(graph);
  const names = new UniqueNames(graph);
  o.downProjections.forEach((a, i) => {
    const transpose = index.consumers.get(a)?.find((n) => n.opType === 'Transpose');
    const matmul = transpose && index.consumers.get(transpose.output[0]!)?.find((n) => n.opType === 'MatMul');
    if (!matmul)
      throw new TrainSetupError(`cannot place dropout: no MatMul(x, Transpose("${a}")) in the graph`, {
        tensor: a,
      });
    const b = new GraphBuilder(graph, names, o.opset, `/dropout/${a}`);
    const x = matmul.input[0]!;
    const draws = b.op1('RandomUniformLike', [x], {
      dtype: { int: DataType.FLOAT },
      seed: { float: o.seed + i },
    });
    const drop = b.op1('Less', [draws, b.initializer('p', (n) => floatTensor(n, [], Float32Array.of(o.p)))]);
    const keep = b.op1('Cast', [b.op1('Not', [drop])], { to: { int: DataType.FLOAT } });
    const scale = b.initializer('scale', (n) => floatTensor(n, [], Float32Array.of(1 / (1 - o.p))));
    matmul.input[0] = b.op1('Mul', [x, b.op1('Mul', [keep, scale])]);
    graph.node.splice(graph.node.indexOf(matmul), 0, ...b.nodes);
  });
}
