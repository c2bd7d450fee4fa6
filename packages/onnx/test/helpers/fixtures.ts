import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { encodeModelBytes, type ModelProto } from '../../src/index.js';

export const FIXTURES = new URL('../../../../fixtures/', import.meta.url);

export function fixture(path: string): URL {
  return new URL(path, FIXTURES);
}

export function fixtureBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(fixture(path)));
}

export interface GoldenTensor {
  shape: number[];
  data: number[];
}

export function golden<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(fixture(path), 'utf8')) as T;
}

export function int64(values: number[][]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values.flat().map(BigInt)), [
    values.length,
    values[0]!.length,
  ]);
}

/** Runs a model (proto or bytes) once on CPU. */
export async function run(
  model: ModelProto | Uint8Array,
  feeds: Record<string, ort.Tensor>,
): Promise<Record<string, ort.Tensor>> {
  const bytes = model instanceof Uint8Array ? model : encodeModelBytes(model);
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
