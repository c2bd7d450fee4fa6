/** A failure the user can fix (bad path, bad flag value). Printed as one line, never with a stack trace. */
export class CliError extends Error {
  override name = 'CliError';
}
