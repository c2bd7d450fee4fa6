import { MorEngineError } from '../errors.js';

/**
 * The train-step graph cannot be built or run: an op on the gradient path without a rule (the message names the
 * node, from `@mor/onnx`'s AutodiffError, kept as `cause`), options that do not fit the model, a bad batch.
 */
export class TrainSetupError extends MorEngineError {
  override name = 'TrainSetupError';
  constructor(
    message: string,
    /** Context of the failure: the node, tensor or option concerned, when there is one. */
    readonly context: Record<string, string | number | undefined> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
