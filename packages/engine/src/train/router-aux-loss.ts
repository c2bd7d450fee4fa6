import { DataType, GraphBuilder, tensorValueInfo, type GraphProto } from '@mor/onnx';

/** Options of {@link addRouterAuxLoss}. */
export interface RouterAuxLossOptions {
  /** Gate outputs `mor_gates.<module>` (`[B, T, N]`) from applyAdapter's `exposeGates`; removed as outputs. */
  gates: string[];
  /** N, the number of experts. */
  experts: number;
  /** Coefficient of the auxiliary loss in the trained loss. */
  coef: number;
  /** The task loss (scalar). */
  loss: string;
  /** `[B, T]` int64 attention mask: padded tokens are not routed tokens. Absent: every token counts. */
  attentionMask?: string;
  opset: number;
}

/**
 * Appends the load-balancing loss of mor-spec §1, `N · Σ_i f_i · P_i` per adapted layer (f_i: share of tokens
 * whose arg-max gate is i — ties to the lower index, as ArgMax; P_i: mean gate of i), over the tokens the
 * attention mask keeps. **[choice]** The layers' losses are averaged, so the coefficient does not scale with the
 * number of adapted layers. f is a count: the gradient flows through P only (Switch-Transformer convention).
 * Adds the scalar output `aux_loss` and returns the name of `loss + coef · aux_loss`, the loss to differentiate.
 */
export function addRouterAuxLoss(graph: GraphProto, o: RouterAuxLossOptions): string {
  const b = new GraphBuilder(graph, { scope: '/router_aux', opset: o.opset });
  const sumAxis0 = (x: string) => b.reduceSum(x, [0], false);
  const n = o.experts;
  const flatShape = b.i64([-1, n]);
  const toFloat = { to: { int: DataType.FLOAT } };
  // Token weights [M, 1] (1 per token, or the attention mask) and their count, at least 1.
  const weights = o.attentionMask
    ? b.op1('Cast', [b.op1('Reshape', [o.attentionMask, b.i64([-1, 1])])], toFloat)
    : undefined;
  const perLayer = o.gates.map((gate) => {
    const g = b.op1('Reshape', [gate, flatShape]); // [M, N]
    const best = b.op1('ArgMax', [g], { axis: { int: -1 }, keepdims: { int: 1 } }); // [M, 1]
    const w = weights ?? b.fillLike(best, 1);
    const count = b.op1('Max', [b.reduceSum(w, undefined, false), b.f(1)]);
    const experts = b.i64(Array.from({ length: n }, (_, i) => i));
    const oneHot = b.op1('Cast', [b.op1('Equal', [best, experts])], toFloat);
    const share = b.op1('Div', [sumAxis0(b.op1('Mul', [oneHot, w])), count]); // f [N]
    const meanGate = b.op1('Div', [sumAxis0(b.op1('Mul', [g, w])), count]); // P [N]
    return b.op1('Mul', [b.reduceSum(b.op1('Mul', [share, meanGate]), undefined, false), b.f(n)]);
  });
  const total = perLayer.length === 1 ? perLayer[0]! : b.op1('Sum', perLayer);
  b.op1('Div', [total, b.f(perLayer.length)], {}, 'aux_loss');
  const trained = b.op1('Add', [o.loss, b.op1('Mul', ['aux_loss', b.f(o.coef)])]);
  const gates = new Set(o.gates);
  graph.output = graph.output.filter((v) => !gates.has(v.name));
  graph.output.push(tensorValueInfo('aux_loss', DataType.FLOAT, []));
  return trained;
}
