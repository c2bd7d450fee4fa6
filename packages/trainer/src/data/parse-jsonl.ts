import { TrainDataError } from '../errors.js';
import { recogniseRow, type DataRow } from './row-kinds.js';

/**
 * Parses a JSONL data file's text (one JSON object a line; blank lines skipped) into typed rows. The first bad
 * line throws {@link TrainDataError} `FILE:LINE: problem`, before any model work starts. `fileName` is only used
 * in messages.
 */
export function parseJsonlRows(text: string, fileName: string): DataRow[] {
  const rows: DataRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new TrainDataError(fileName, i + 1, `not valid JSON (${(e as Error).message})`);
    }
    const row = recogniseRow(value, i + 1);
    if (typeof row === 'string') throw new TrainDataError(fileName, i + 1, row);
    rows.push(row);
  }
  if (rows.length === 0) throw new TrainDataError(fileName, 1, 'the file holds no data rows');
  return rows;
}
