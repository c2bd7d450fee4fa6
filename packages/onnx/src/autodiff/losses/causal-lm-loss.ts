import { TensorProto_DataType as DataType, type GraphProto } from 'onnx-buf';
import { autodiffBuilder } from '../builder.js';
import { addLossIo } from './add-loss-io.js';
import { emitCrossEntropy, IGNORE_INDEX } from './cross-entropy.js';

/** Options of {@link addCausalLmLoss}. */
export interface CausalLmLossOptions {
  /** Logits tensor, [batch, seq, vocab]. */
  logits: string;
  /** Labels graph input name, int64 [batch, seq] (added when missing); -100 marks ignored positions. Default `labels`. */
  labels?: string;
  /** Name of the scalar loss output. Default `loss`. */
  loss?: string;
  /** The model's ai.onnx opset, at least 13 (default 17). */
  opset?: number;
  /** Compute type of the loss (default float32). */
  floatType?: DataType.FLOAT | DataType.DOUBLE;
}

/**
 * Appends the causal language-modelling loss (mor-spec §4, Hugging Face convention): logits at position t
 * predict the label at t+1; the loss is the mean cross-entropy over every non-ignored label of the whole batch.
 * Returns the loss tensor name.
 *
 * The labels are shifted, not the logits: `labels[:, 1:]` padded with one ignored column, so the last position
 * counts for nothing. Slicing the `[B, T, V]` logits instead would copy them, and the Slice gradient would
 * scatter a `[B, T, V]` tensor back — the largest tensors of the step, for nothing.
 */
export function addCausalLmLoss(graph: GraphProto, options: CausalLmLossOptions): string {
  const labels = options.labels ?? 'labels';
  const loss = options.loss ?? 'loss';
  const floatType = options.floatType ?? DataType.FLOAT;
  const b = autodiffBuilder(graph, '/loss', options.opset, floatType);
  const axis1 = b.i64([1]);
  const labels64 = b.op1('Cast', [labels], { to: { int: DataType.INT64 } });
  const next = b.op1('Slice', [labels64, axis1, b.i64([Number.MAX_SAFE_INTEGER]), axis1]);
  // [B, T-1] → [B, T]: one ignored column after the last position.
  const shifted = b.op1('Pad', [next, b.i64([0, 0, 0, 1]), b.i64(IGNORE_INDEX, [])]);
  emitCrossEntropy(b, options.logits, shifted, loss);
  addLossIo(graph, labels, ['batch_size', 'sequence_length'], loss, floatType);
  return loss;
}
