/**
 * Base class of every error the engine and the packages built on it (@mor/transformers, @mor/trainer) throw on
 * purpose, so callers can tell ours from runtime faults.
 */
export class MorEngineError extends Error {
  override name = 'MorEngineError';
}

/** The adapter argument could not be turned into an adapter (missing directory, unreadable files, …). */
export class AdapterLoadError extends MorEngineError {
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
export class UnsupportedDeviceError extends MorEngineError {
  override name = 'UnsupportedDeviceError';
  constructor(
    readonly device: string,
    readonly valid: readonly string[],
  ) {
    super(`unsupported device "${device}": expected one of ${valid.join(', ')}`);
  }
}

/** A valid device whose runtime pieces are missing here; `hint` says how to install them. */
export class BackendUnavailableError extends MorEngineError {
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
export class MorInputError extends MorEngineError {
  override name = 'MorInputError';
}
