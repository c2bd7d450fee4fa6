/** A MoR configuration value is out of range or of the wrong type. `field` names the offending key. */
export class MorConfigError extends Error {
  override name = 'MorConfigError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`invalid MoR config: ${field}: ${message}`);
  }
}

/** Tensors handed to the reference math have shapes that do not fit together. */
export class MorShapeError extends Error {
  override name = 'MorShapeError';
}
