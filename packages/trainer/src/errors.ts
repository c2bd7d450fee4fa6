import { MorTransformersError } from '@mor/transformers';

/**
 * A data row that cannot be trained on. The message starts `FILE:LINE:` (editors and terminals jump there), so
 * a bad row in a thousand-line file is found at once; `file` and `line` are kept for callers.
 */
export class TrainDataError extends MorTransformersError {
  override name = 'TrainDataError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`${file}:${line}: ${problem}`);
  }
}

/** A training setting or checkpoint that does not fit (bad flag combination, checkpoint of another run…). */
export class TrainConfigError extends MorTransformersError {
  override name = 'TrainConfigError';
}
