import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli, type CliResult } from '../run-cli.js';

/** `{shape, data}` as `mor forward` writes it and golden.json stores it. */
export interface Logits {
  shape: number[];
  data: number[];
}

/** A fresh scratch directory. */
export function scratch(prefix = 'mor-cli-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Writes token id rows to a JSON file for `--input-ids`. */
export async function idsFile(ids: number[][]): Promise<string> {
  const file = join(await scratch('mor-ids-'), 'ids.json');
  await writeFile(file, JSON.stringify(ids));
  return file;
}

/** Fails with the command's stderr when it did not exit 0. */
export function expectOk(r: CliResult): CliResult {
  if (r.code !== 0) throw new Error(`mor exited ${r.code}: ${r.stderr}`);
  return r;
}

/** Runs `mor forward` and reads the logits it wrote. */
export async function forward(model: string, idsPath: string, ...extra: string[]): Promise<Logits> {
  const out = join(await scratch('mor-logits-'), 'logits.json');
  expectOk(await runCli(['forward', '--model', model, '--input-ids', idsPath, '--out', out, ...extra]));
  return JSON.parse(await readFile(out, 'utf8')) as Logits;
}

/** Largest absolute difference of two logit tensors of the same shape. */
export function maxDiff(a: Logits, b: Logits): number {
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

/** One-line `error: …` on stderr, non-zero exit, no stack trace, and the message holds every part. */
export function expectOneLineError(r: CliResult, ...parts: string[]): void {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  if (lines.length !== 1) throw new Error(`expected one stderr line, got:\n${r.stderr}`);
  expect(lines[0]).toMatch(/^error: /);
  for (const p of parts) expect(lines[0]).toContain(p);
}
