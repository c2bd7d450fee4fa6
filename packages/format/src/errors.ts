/** Where a format error happened: the file and, when one is to blame, the tensor. */
export interface FormatErrorContext {
  /** The file being read or written, as the user would recognise it (e.g. `adapter_model.safetensors`). */
  fileName?: string | undefined;
  /** The tensor at fault, by its full name in the file. */
  tensorName?: string | undefined;
}

/** `file: tensor 'name': detail` — the one message shape every refusal in this package uses. */
function formatMessage(detail: string, context: FormatErrorContext): string {
  const where: string[] = [];
  if (context.fileName !== undefined) where.push(context.fileName);
  if (context.tensorName !== undefined) where.push(`tensor '${context.tensorName}'`);
  return where.length === 0 ? detail : `${where.join(': ')}: ${detail}`;
}

/** A safetensors file that is malformed (header, offsets, dtypes, sizes) or a tensor that cannot be converted. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
  readonly fileName?: string;
  readonly tensorName?: string;
  /** The message without the file/tensor prefix. */
  readonly detail: string;
  constructor(detail: string, context: FormatErrorContext = {}) {
    super(formatMessage(detail, context));
    this.detail = detail;
    if (context.fileName !== undefined) this.fileName = context.fileName;
    if (context.tensorName !== undefined) this.tensorName = context.tensorName;
  }
}

/**
 * A well-formed file whose content is not a valid adapter: bad config, tensors that disagree with the config or
 * the base model, incomplete tensor groups, unknown tensor names, non-finite values.
 */
export class AdapterFormatError extends Error {
  override name = 'AdapterFormatError';
  readonly fileName?: string;
  readonly tensorName?: string;
  /** The message without the file/tensor prefix. */
  readonly detail: string;
  constructor(detail: string, context: FormatErrorContext = {}, options?: { cause?: unknown }) {
    super(formatMessage(detail, context), options);
    this.detail = detail;
    if (context.fileName !== undefined) this.fileName = context.fileName;
    if (context.tensorName !== undefined) this.tensorName = context.tensorName;
  }
}
