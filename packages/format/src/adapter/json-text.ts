import { AdapterFormatError } from '../errors.js';

/**
 * `JSON.parse` with an error that names the file and the line and column, which V8's message gives only as a
 * character position (and not on every Node version).
 */
export function parseJsonText(text: string, fileName: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    if (/line \d+/.test(message)) throw new AdapterFormatError(`not valid JSON: ${message}`, { fileName });
    const position = /position (\d+)/.exec(message);
    const at = position ? Number(position[1]) : text.length;
    const before = text.slice(0, at).split('\n');
    const where = `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
    throw new AdapterFormatError(`not valid JSON at ${where}: ${message}`, { fileName });
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
