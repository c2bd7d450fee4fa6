import { TensorProto_DataType as DataType, type GraphProto } from 'onnx-buf';
import { autodiffBuilder } from '../builder.js';
import { addLossIo } from './add-loss-io.js';
import { emitCrossEntropy } from './cross-entropy.js';

/** Options of {@link addClassificationLoss}. */
export interface ClassificationLossOptions {
  /** Logits tensor, [batch, classes]. */
  logits: string;
  /** Labels graph input name, int64 [batch] (added when missing); -100 marks ignored rows. Default `labels`. */
  labels?: string;
  /** Name of the scalar loss output. Default `loss`. */
  loss?: string;
  /** The model's ai.onnx opset, at least 13 (default 17). */
  opset?: number;
  /** Compute type of the loss (default float32). */
  floatType?: DataType.FLOAT | DataType.DOUBLE;
}

/** Appends the sequence-classification loss: mean cross-entropy over the batch (mor-spec §4). Returns its name. */
export function addClassificationLoss(graph: GraphProto, options: ClassificationLossOptions): string {
  const labels = options.labels ?? 'labels';
  const loss = options.loss ?? 'loss';
  const floatType = options.floatType ?? DataType.FLOAT;
  const b = autodiffBuilder(graph, '/loss', options.opset, floatType);
  emitCrossEntropy(b, options.logits, labels, loss);
  addLossIo(graph, labels, ['batch_size'], loss, floatType);
  return loss;
}
