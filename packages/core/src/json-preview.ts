/** Longest quote of a bad value in an error message; a 100,000-element "shape" is not worth printing whole. */
export const JSON_PREVIEW_CHARS = 80;

/**
 * A short JSON rendering of an untrusted value for an error message: `JSON.stringify`, cut to `maxChars`, and
 * `(missing)` for a key that is absent. A value nested deeper than `JSON.stringify` can follow (it throws a
 * RangeError: maximum call stack size exceeded) is described instead, so describing bad input never fails itself.
 */
export function jsonPreview(value: unknown, maxChars: number = JSON_PREVIEW_CHARS): string {
  if (value === undefined) return '(missing)';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Array.isArray(value) ? '[…] (nested too deeply to show)' : '{…} (nested too deeply to show)';
  }
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}
