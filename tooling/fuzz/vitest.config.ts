import { defineConfig } from 'vitest/config';

// The fuzz test runs the built harness (`bin/fuzz.mjs`, one worker per target) for ≥ 10,000 inputs a target.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 240_000 },
});
