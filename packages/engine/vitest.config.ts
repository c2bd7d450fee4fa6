import { defineConfig } from 'vitest/config';
import SkipReasons from '../../scripts/skip-reasons-reporter.mjs';

export default defineConfig({
  test: {
    reporters: ['default', new SkipReasons()],
    include: ['test/**/*.test.ts'],
    // Tests import src/ as Node users import @mor/engine: with the Node platform registered.
    setupFiles: ['./test/node-platform.ts'],
    testTimeout: 60_000,
  },
});
