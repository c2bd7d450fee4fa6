import { readFile } from 'node:fs/promises';
import { CliError } from '../errors.js';

/**
 * Reads the token ids of `mor forward --input-ids FILE.json`: `[[ids…], …]`, rows of equal length (a single
 * flat row `[ids…]` is taken as one row). Checked here so a bad file fails before the model loads.
 */
export async function readTokenIdsFile(file: string): Promise<number[][]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) value = [value];
  if (!Array.isArray(value) || value.length === 0 || !value.every((row) => Array.isArray(row))) {
    throw new CliError(`${file}: expected token ids as [[id, …], …]`);
  }
  const rows = value as unknown[][];
  const len = rows[0]!.length;
  rows.forEach((row, b) => {
    if (row.length !== len || len === 0)
      throw new CliError(
        `${file}: rows must be non-empty and of equal length (row 0 has ${len}, row ${b} has ${row.length})`,
      );
    row.forEach((id, t) => {
      if (!Number.isInteger(id) || (id as number) < 0)
        throw new CliError(`${file}: [${b}][${t}] is not a token id: ${JSON.stringify(id)}`);
    });
  });
  return rows as number[][];
}
