import type { Reporter } from 'vitest/node';

/** See skip-reasons-reporter.mjs: lists every skipped test with its reason at the end of a vitest run. */
export default class SkipReasonsReporter implements Reporter {
  /** Reads each test module's `moduleId` and `children.allTests()` (vitest's `TestModule`s). */
  onTestRunEnd(modules: ReadonlyArray<unknown>): void;
}
