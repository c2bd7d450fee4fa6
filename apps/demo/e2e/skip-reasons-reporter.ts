// A Playwright reporter that lists every skipped test with its reason at the end of the run: the 'list'
// reporter marks a skipped test but drops the description given to `test.skip(condition, description)`, and a
// reader of `npm test` should see why (the vitest packages do the same with scripts/skip-reasons-reporter.mjs).
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

export default class SkipReasonsReporter implements Reporter {
  private readonly lines: string[] = [];

  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.status !== 'skipped') return;
    const reason = test.annotations.find((a) => a.type === 'skip')?.description;
    const where = test.titlePath().filter(Boolean).join(' > ');
    this.lines.push(`  ↓ ${where}${reason ? ` — ${reason}` : ''}`);
  }

  onEnd(_result: FullResult): void {
    if (this.lines.length === 0) return;
    process.stdout.write(`\nSkipped tests and why (${this.lines.length}):\n${this.lines.join('\n')}\n`);
  }
}
