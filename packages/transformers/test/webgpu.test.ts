import { existsSync } from 'node:fs';
import { AutoModelForCausalLM, Tensor, type PreTrainedModel } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardLogits, loadWithAdapter } from '../src/index.js';
import { fixture, maxAbsDiff, newTokens, readGolden, useFixtureModels, type KvGolden } from './helpers.js';

// onnxruntime-node's WebGPU runs through Dawn, which needs the Vulkan loader (libvulkan.so.1) and a driver;
// without a GPU, Chromium's SwiftShader ICD works (architecture.md). Debian's chromium ships its own loader,
// so with chromium installed and nothing else:
//   LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json npx vitest run
const ICD = process.env['VK_ICD_FILENAMES'];
const LOADER_DIRS = [
  ...(process.env['LD_LIBRARY_PATH'] ?? '').split(':'),
  '/usr/lib/x86_64-linux-gnu',
  '/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/usr/local/lib',
].filter(Boolean);
const loader = LOADER_DIRS.map((d) => `${d}/libvulkan.so.1`).find((f) => existsSync(f));
const skipReason = !ICD
  ? 'VK_ICD_FILENAMES is not set'
  : !existsSync(ICD)
    ? `VK_ICD_FILENAMES names a missing file (${ICD})`
    : !loader
      ? 'no Vulkan loader (libvulkan.so.1) on LD_LIBRARY_PATH or in the system library folders'
      : null;

const golden = readGolden<KvGolden>('tiny-llama-kv/golden.json');

describe.skipIf(skipReason !== null)(
  `WebGPU with Dawn/Vulkan${skipReason ? ` — skipped: ${skipReason}` : ''}`,
  () => {
    let model: PreTrainedModel;
    beforeAll(async () => {
      useFixtureModels();
      model = await loadWithAdapter(AutoModelForCausalLM, 'tiny-llama-kv', {
        dtype: 'fp32',
        device: 'webgpu',
        adapter: fixture('tiny-llama-kv/mor-adapter'),
      });
    }, 120_000);
    afterAll(() => model?.dispose());

    it('runs the adapted session on the webgpu execution provider, KV cache kept on the GPU', () => {
      const session = model.sessions['model'] as { config?: { device?: string } };
      expect(session.config?.device).toBe('webgpu');
    });

    it('gives the golden prompt logits within 1e-3', async () => {
      const out = await forwardLogits(model, [golden.prompt_ids]);
      expect(maxAbsDiff(out.shape, out.data, golden.prompt_logits_mor)).toBeLessThan(1e-3);
    });

    it('generates the golden greedy_mor tokens', async () => {
      const ids = golden.prompt_ids;
      const out = await model.generate({
        input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
        attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
        max_new_tokens: golden.max_new_tokens,
        do_sample: false,
      });
      expect(newTokens(out as Tensor, ids.length)).toEqual(golden.greedy_mor);
    });
  },
);
