import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { browserBundleReport } from '../../../scripts/browser-bundle.mjs';

describe('browser bundle', () => {
  it('the browser entry reaches no Node builtin, no onnxruntime-node and no node/ file', async () => {
    const report = await browserBundleReport(new URL('../src/index.ts', import.meta.url));
    expect(report.nodeOnly).toEqual([]);
    // It did follow the package's own modules and its @mor dependencies.
    expect(report.modules.some((m) => m.endsWith('/transformers/src/graph-patch.ts'))).toBe(true);
    expect(report.modules.some((m) => /\/engine\/dist\/index\.js$/.test(m))).toBe(true);
  }, 120_000);

  it('the check fails on the Node entry and on a dynamic import of a Node builtin', async () => {
    const node = await browserBundleReport(new URL('../src/node/index.ts', import.meta.url));
    expect(node.nodeOnly.some((m) => m.startsWith('node:fs'))).toBe(true);
    expect(node.nodeOnly.some((m) => m.includes('/engine/dist/node/index.js'))).toBe(true);

    const dir = await mkdtemp(join(tmpdir(), 'mor-bundle-'));
    try {
      const entry = join(dir, 'entry.js');
      await writeFile(entry, "export const cpus = async () => (await import('os')).cpus();\n");
      expect((await browserBundleReport(entry)).nodeOnly).toEqual([`os ← ${entry}`]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
