import { AdapterFormatError } from '../errors.js';

/**
 * Deepest nesting accepted in adapter_config.json / training_summary.json. PEFT's configs nest three levels; a
 * document nested thousands deep parses, but every recursive walk of it afterwards (JSON.stringify when the
 * adapter is saved again, structuredClone, a deep equal) overflows the stack with a RangeError.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * `JSON.parse` with an error that names the file and the line and column, which V8's message gives only as a
 * character position (and not on every Node version); refuses a document nested deeper than {@link MAX_JSON_DEPTH}.
 */
export function parseJsonText(text: string, fileName: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    if (/line \d+/.test(message)) throw new AdapterFormatError(`not valid JSON: ${message}`, { fileName });
    const position = /position (\d+)/.exec(message);
    const at = position ? Number(position[1]) : text.length;
    const before = text.slice(0, at).split('\n');
    const where = `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
    throw new AdapterFormatError(`not valid JSON at ${where}: ${message}`, { fileName });
  }
  if (nestingDepth(value) > MAX_JSON_DEPTH) {
    throw new AdapterFormatError(`nested more than ${MAX_JSON_DEPTH} levels deep (not a config file)`, {
      fileName,
    });
  }
  return value;
}

/** Depth of the deepest array/object in a parsed value, without recursion (the value may be very deep). */
function nestingDepth(root: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth + 1 > deepest) deepest = depth + 1;
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return deepest;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `record[key] = value` that also works for the key `__proto__` (JSON.parse keeps it as an own key; an
 * assignment would set the prototype instead, dropping the key and changing what every other lookup finds).
 */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
