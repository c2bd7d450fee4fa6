import { describe, expect, it } from 'vitest';
import { browserBundleReport } from '../../../scripts/browser-bundle.mjs';

describe('browser bundle', () => {
  it('the browser entry reaches no Node builtin, no onnxruntime-node and no node/ file', async () => {
    const report = await browserBundleReport(new URL('../src/index.ts', import.meta.url));
    expect(report.nodeOnly).toEqual([]);
    // It did follow the package's own modules and its @mor dependencies.
    expect(report.modules.some((m) => m.endsWith('/engine/src/platform.ts'))).toBe(true);
    expect(report.modules.some((m) => /\/onnx\/dist\/index\.js$/.test(m))).toBe(true);
  }, 120_000);

  it('the check fails on the Node entry', async () => {
    const node = await browserBundleReport(new URL('../src/node/index.ts', import.meta.url));
    expect(node.nodeOnly.some((m) => m.startsWith('node:fs'))).toBe(true);
    expect(node.nodeOnly.some((m) => m.includes('/engine/src/node/platform.ts'))).toBe(true);
  }, 120_000);
});
