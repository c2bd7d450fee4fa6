import { readFileSync } from 'node:fs';
import { test as base } from '@playwright/test';

/** Per-project options (playwright.config.ts `projects[].use`). */
export interface DemoOptions {
  /** The backend the page must report: webgpu (auto-detected) or wasm (forced with ?backend=wasm). */
  backend: 'webgpu' | 'wasm';
}

export const test = base.extend<DemoOptions>({
  backend: ['webgpu', { option: true }],
});
export { expect } from '@playwright/test';

/** The repository's fixtures (PyTorch goldens, fixtures/README.md). */
export const FIXTURES = new URL('../../../fixtures/', import.meta.url);

export interface KvGolden {
  prompt: string;
  prompt_ids: number[];
  max_new_tokens: number;
  greedy_base: number[];
  greedy_mor: number[];
}

export function readGolden(): KvGolden {
  return JSON.parse(readFileSync(new URL('tiny-llama-kv/golden.json', FIXTURES), 'utf8')) as KvGolden;
}

export function readFixture(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(rel, FIXTURES)));
}

/**
 * The page URL for a backend (WebGPU is what the page picks by itself; WASM is forced) and a model: by default the
 * random test model with its fixture adapter (PyTorch goldens); `wordnet` is the page's own default, the
 * WordNet-pretrained base without an adapter, in fp32, q4 or q4f16.
 */
export function pageUrl(
  backend: DemoOptions['backend'],
  model: 'tiny-llama-kv' | 'wordnet' | 'wordnet-q4' | 'wordnet-q4f16' = 'tiny-llama-kv',
): string {
  const params = new URLSearchParams();
  if (backend === 'wasm') params.set('backend', 'wasm');
  if (model === 'tiny-llama-kv') {
    params.set('model', 'tiny-llama-kv');
    params.set('adapter', '/models/tiny-llama-kv/mor-adapter/');
  }
  if (model === 'wordnet-q4') params.set('dtype', 'q4');
  if (model === 'wordnet-q4f16') params.set('dtype', 'q4f16');
  const query = params.toString();
  return query ? `/?${query}` : '/';
}
