import { expect, it } from 'vitest';
import { browserBundleReport } from '../../../scripts/browser-bundle.mjs';

it('the browser entry bundles for the browser reaching no Node builtin and no node/ file', async () => {
  const report = await browserBundleReport(new URL('../src/index.ts', import.meta.url));
  expect(report.nodeOnly).toEqual([]);
  expect(report.modules.some((m) => m.endsWith('/core/src/index.ts'))).toBe(true);
}, 120_000);
