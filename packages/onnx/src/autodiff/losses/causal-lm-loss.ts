import { TensorProto_DataType as DataType, type GraphProto } from 'onnx-buf';
import { GraphBuilder } from '../builder.js';
import { addLossIo } from './add-loss-io.js';
import { emitCrossEntropy } from './cross-entropy.js';

/** Options of {@link addCausalLmLoss}. */
export interface CausalLmLossOptions {
  /** Logits tensor, [batch, seq, vocab]. */
  logits: string;
  /** Labels graph input name, int64 [batch, seq] (added when missing); -100 marks ignored positions. Default `labels`. */
  labels?: string;
  /** Name of the scalar loss output. Default `loss`. */
  loss?: string;
  /** The model's ai.onnx opset (default 17). */
  opset?: number;
  /** Compute type of the loss (default float32). */
  floatType?: DataType.FLOAT | DataType.DOUBLE;
}

/**
 * Appends the causal language-modelling loss (mor-spec §4, Hugging Face convention): logits at position t
 * predict the label at t+1, so logits drop the last position and labels the first; the loss is the mean
 * cross-entropy over every non-ignored label of the whole batch. Returns the loss tensor name.
 */
export function addCausalLmLoss(graph: GraphProto, options: CausalLmLossOptions): string {
  const labels = options.labels ?? 'labels';
  const loss = options.loss ?? 'loss';
  const floatType = options.floatType ?? DataType.FLOAT;
  const b = new GraphBuilder(graph, { prefix: '/loss/', opset: options.opset ?? 17, floatType });
  const axis1 = b.i64([1]);
  const shiftedLogits = b.op1('Slice', [options.logits, b.i64([0]), b.i64([-1]), axis1]);
  const shiftedLabels = b.op1('Slice', [labels, axis1, b.i64([Number.MAX_SAFE_INTEGER]), axis1]);
  emitCrossEntropy(b, shiftedLogits, shiftedLabels, loss);
  addLossIo(graph, labels, ['batch_size', 'sequence_length'], loss, floatType);
  return loss;
}
