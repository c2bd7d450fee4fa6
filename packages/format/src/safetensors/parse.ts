import { jsonPreview } from '@mor/core';
import { setOwn } from '../adapter/json-text.js';
import { SafetensorsError } from '../errors.js';
import { DTYPE_BYTES, elementCount, isSafetensorsDtype } from './dtype.js';
import { topLevelKeys } from './header-keys.js';
import type { SafetensorsFile, SafetensorsReadOptions, SafetensorsTensor } from './types.js';

/**
 * Largest header we accept. Real headers are a few KB (a few MB for checkpoints with 100k tensors); the length is
 * untrusted input, and decoding/parsing a huge bogus "header" would stall or exhaust a browser tab. 100 MB is the
 * limit of the reference Rust implementation, so anything it writes we read.
 */
export const MAX_HEADER_BYTES = 100_000_000;

/** The name under which safetensors stores free-form string metadata. */
export const METADATA_KEY = '__metadata__';

const DEFAULT_FILE_NAME = '<safetensors>';

interface Entry {
  name: string;
  begin: number;
  end: number;
}

/**
 * Parses a safetensors file. Validates the whole header: length, UTF-8, JSON, duplicate names, dtypes, shapes,
 * sizes, and that the tensors tile the data section exactly (no overlap, no gap, nothing past the end or after
 * the last tensor). Tensor data are views into `bytes`.
 *
 * @throws {SafetensorsError} naming the file (and the tensor, when one is at fault).
 */
export function parseSafetensors(bytes: Uint8Array, options: SafetensorsReadOptions = {}): SafetensorsFile {
  const fileName = options.fileName ?? DEFAULT_FILE_NAME;
  const fail = (detail: string, tensorName?: string): never => {
    throw new SafetensorsError(detail, { fileName, tensorName });
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short to hold the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    fail(
      `header length ${headerLength} is over the ${MAX_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`,
    );
  }
  const n = Number(headerLength);
  if (n > bytes.length - 8) fail(`header length ${n} runs past the end of the file (${bytes.length} bytes)`);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    return fail(`header is not valid JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(header)) return fail('header is not a JSON object');
  const record = header;

  const keys = topLevelKeys(text);
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key))
      fail(key === METADATA_KEY ? 'header has two __metadata__ entries' : 'named twice in the header', key);
    seen.add(key);
  }

  const metadata = parseMetadata(record[METADATA_KEY], fail);
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const entries: Entry[] = [];
  const tensors = new Map<string, SafetensorsTensor>();
  for (const name of keys) {
    if (name === METADATA_KEY) continue;
    const info = record[name];
    if (!isPlainObject(info)) return fail('header entry is not an object', name);
    const { dtype, shape, data_offsets: offsets } = info;
    if (!isSafetensorsDtype(dtype)) {
      return fail(
        `unknown dtype ${jsonPreview(dtype)} (known: ${Object.keys(DTYPE_BYTES).join(', ')})`,
        name,
      );
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      return fail(`shape ${jsonPreview(shape)} is not a list of non-negative integers`, name);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every(isCount) ||
      offsets[0] > offsets[1]
    ) {
      return fail(
        `data_offsets ${jsonPreview(offsets)} is not a pair [begin, end] with 0 ≤ begin ≤ end`,
        name,
      );
    }
    const [begin, end] = offsets as [number, number];
    const need = elementCount(shape as number[]) * DTYPE_BYTES[dtype];
    if (need !== end - begin) {
      fail(
        `shape ${jsonPreview(shape)} of ${dtype} needs ${need} bytes but data_offsets [${begin},${end}] hold ${end - begin}`,
        name,
      );
    }
    if (end > dataLength) {
      fail(
        `data_offsets [${begin},${end}] run past the end of the file (data section is ${dataLength} bytes)`,
        name,
      );
    }
    entries.push({ name, begin, end });
    const data = bytes.subarray(dataStart + begin, dataStart + end);
    tensors.set(name, { name, dtype, shape: [...(shape as number[])], data });
  }
  checkTiling(entries, dataLength, fail);
  return { metadata, tensors };
}

/** The tensors must cover the data section exactly once, like the reference reader demands. */
function checkTiling(entries: Entry[], dataLength: number, fail: (d: string, t?: string) => never): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let previous: Entry | undefined;
  for (const entry of sorted) {
    if (entry.begin < expected) {
      fail(
        `data_offsets [${entry.begin},${entry.end}] overlap tensor '${previous?.name}' [${previous?.begin},${previous?.end}]`,
        entry.name,
      );
    }
    if (entry.begin > expected) {
      fail(
        `data_offsets [${entry.begin},${entry.end}] leave a gap: bytes [${expected},${entry.begin}) belong to no tensor`,
        entry.name,
      );
    }
    expected = entry.end;
    previous = entry;
  }
  if (expected !== dataLength) {
    fail(`${dataLength - expected} bytes after the last tensor (offset ${expected}) belong to no tensor`);
  }
}

function parseMetadata(value: unknown, fail: (d: string, t?: string) => never): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) return fail('__metadata__ is not an object of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`__metadata__ value for ${jsonPreview(k)} is not a string`);
    setOwn(out, k, v as string);
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
