/** Base class of every error this package throws on purpose, so callers can tell ours from runtime faults. */
export class MorTransformersError extends Error {
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

/** The adapter argument could not be turned into an adapter (missing directory, unreadable files, …). */
export class AdapterLoadError extends MorTransformersError {
  override name = 'AdapterLoadError';
  constructor(
    readonly source: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot load adapter from "${source}": ${reason}`, options);
  }
}

/** A device name that is not one of the valid choices; `valid` lists them. */
export class UnsupportedDeviceError extends MorTransformersError {
  override name = 'UnsupportedDeviceError';
  constructor(
    readonly device: string,
    readonly valid: readonly string[],
  ) {
    super(`unsupported device "${device}": expected one of ${valid.join(', ')}`);
  }
}

/** A valid device whose runtime pieces are missing here; `hint` says how to install them. */
export class BackendUnavailableError extends MorTransformersError {
  override name = 'BackendUnavailableError';
  constructor(
    readonly device: string,
    reason: string,
    readonly hint: string,
  ) {
    super(`device "${device}" is not available: ${reason}. ${hint}`);
  }
}

/** Bad arguments to a helper such as `forwardLogits` (ragged token rows, empty input, bad gate spec…). */
export class MorInputError extends MorTransformersError {
  override name = 'MorInputError';
}
