import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { env } from '@huggingface/transformers';

/** The repository's fixtures (copied from PyTorch goldens, see fixtures/README.md). */
export const FIXTURES = fileURLToPath(new URL('../../../fixtures/', import.meta.url));

/** Absolute path of a file or folder under fixtures/. */
export function fixture(rel: string): string {
  return `${FIXTURES}${rel}`;
}

/** Points transformers.js at fixtures/ and forbids the network, so model ids like 'tiny-llama-kv' load offline. */
export function useFixtureModels(): void {
  env.localModelPath = FIXTURES;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
}

/** A `{shape, data}` tensor as the golden files store them. */
export interface GoldenTensor {
  shape: number[];
  data: number[];
}

export interface KvGolden {
  prompt: string;
  prompt_ids: number[];
  max_new_tokens: number;
  greedy_base: number[];
  greedy_mor: number[];
  prompt_logits_base: GoldenTensor;
  prompt_logits_mor: GoldenTensor;
}

export interface NoKvGolden {
  input_ids: number[][];
  logits_base: GoldenTensor;
  logits_mor: GoldenTensor;
  logits_peft_lora: GoldenTensor;
}

export function readGolden<T>(rel: string): T {
  return JSON.parse(readFileSync(fixture(rel), 'utf8')) as T;
}

/** Largest absolute difference, after checking the shapes agree. */
export function maxAbsDiff(shape: readonly number[], data: ArrayLike<number>, golden: GoldenTensor): number {
  if (shape.join() !== golden.shape.join())
    throw new Error(`shape [${shape}] differs from golden [${golden.shape}]`);
  let max = 0;
  for (let i = 0; i < golden.data.length; i++) max = Math.max(max, Math.abs(data[i]! - golden.data[i]!));
  return max;
}

/** The new token ids of a `generate()` result for a one-row prompt. */
export function newTokens(output: { data: ArrayLike<bigint | number> }, promptLength: number): number[] {
  return Array.from(output.data as ArrayLike<bigint>, Number).slice(promptLength);
}
