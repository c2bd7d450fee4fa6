import { defineConfig } from 'vitest/config';
import SkipReasons from '../../scripts/skip-reasons-reporter.mjs';

export default defineConfig({
  test: { reporters: ['default', new SkipReasons()], include: ['test/**/*.test.ts'], testTimeout: 120_000 },
});
