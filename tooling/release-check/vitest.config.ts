import { defineConfig } from 'vitest/config';
import SkipReasons from '../../scripts/skip-reasons-reporter.mjs';

// Packing, a real `npm install` and a model run take a minute or two; the two files run in parallel.
export default defineConfig({
  test: {
    reporters: ['default', new SkipReasons()],
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
