import { MorEngineError } from '@mor/engine';

/** Base class of the errors the patcher throws on purpose (an engine error: `instanceof MorEngineError` holds). */
export class MorTransformersError extends MorEngineError {
  override name = 'MorTransformersError';
}

/**
 * An adapter could not be put on (or taken off) a loaded model. `session` names the transformers.js session
 * (`model.sessions[session]`) and `modelId` the model when known, so the message says where it happened.
 */
export class AdapterAttachError extends MorTransformersError {
  override name = 'AdapterAttachError';
  constructor(
    readonly reason: string,
    readonly session: string | null = null,
    readonly modelId: string | null = null,
  ) {
    const where = [modelId && `model "${modelId}"`, session && `session "${session}"`]
      .filter(Boolean)
      .join(', ');
    super(where ? `cannot attach adapter (${where}): ${reason}` : `cannot attach adapter: ${reason}`);
  }
}
