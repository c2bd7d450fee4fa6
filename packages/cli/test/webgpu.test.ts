import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, runCli } from './run-cli.js';

// onnxruntime-node's WebGPU runs through Dawn on Vulkan; without a GPU, Chromium's SwiftShader ICD
// (VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json, as .ci/run sets) and the Vulkan loader.
const ICD = process.env['VK_ICD_FILENAMES'];
const loader = [
  ...(process.env['LD_LIBRARY_PATH'] ?? '').split(':'),
  '/usr/lib/x86_64-linux-gnu',
  '/lib/x86_64-linux-gnu',
  '/usr/lib',
].some((d) => d && existsSync(`${d}/libvulkan.so.1`));
const skipReason = !ICD
  ? 'VK_ICD_FILENAMES is not set'
  : !existsSync(ICD)
    ? `VK_ICD_FILENAMES names a missing file (${ICD})`
    : !loader
      ? 'no Vulkan loader (libvulkan.so.1)'
      : null;

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function scratch(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mor-cli-webgpu-'));
  dirs.push(d);
  return d;
}

async function forward(model: string, extra: string[] = []) {
  const dir = await scratch();
  const ids = join(dir, 'ids.json');
  await writeFile(ids, '[[1, 54, 74, 71, 259]]');
  const out = join(dir, 'logits.json');
  // No XDG_RUNTIME_DIR, as in a container or a CI job: Dawn complains about it on stderr unless we set one.
  const r = await runCli(
    ['forward', '--model', model, '--input-ids', ids, '--out', out, '--device', 'webgpu', ...extra],
    { XDG_RUNTIME_DIR: '' },
  );
  return { ...r, out };
}

describe.skipIf(skipReason !== null)(
  `mor on WebGPU (Dawn/Vulkan)${skipReason ? ` — skipped: ${skipReason}` : ''}`,
  () => {
    it('a successful run prints no line starting with "error:" (Dawn wrote two about XDG_RUNTIME_DIR)', async () => {
      const r = await forward(fixture('tiny-llama-kv'));
      expect(r.code).toBe(0);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual([]);
      expect(JSON.parse(await readFile(r.out, 'utf8')).shape).toEqual([1, 5, 384]);
    });

    it.each([
      ['without', []],
      ['with', ['--adapter', fixture('tiny-llama/mor-adapter')]],
    ])(
      'forward on a graph without a KV cache, %s an adapter, equals the CPU logits (it failed: "present.0.key" is not a valid output name)',
      async (_, extra) => {
        const gpu = await forward(fixture('tiny-llama'), extra);
        expect(gpu.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual([]);
        expect(gpu.code).toBe(0);
        const cpu = await forward(fixture('tiny-llama'), [...extra, '--device', 'cpu']);
        expect(cpu.code).toBe(0);
        const [a, b] = await Promise.all(
          [gpu.out, cpu.out].map(async (f) => JSON.parse(await readFile(f, 'utf8')) as { data: number[] }),
        );
        expect(a!.data.length).toBe(5 * 384);
        expect(Math.max(...a!.data.map((v, i) => Math.abs(v - b!.data[i]!)))).toBeLessThan(1e-4);
      },
    );
  },
);
