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

/** The page URL for a backend: WebGPU is what the page picks by itself; WASM is forced. */
export function pageUrl(backend: DemoOptions['backend']): string {
  return backend === 'wasm' ? '/?backend=wasm' : '/';
}
