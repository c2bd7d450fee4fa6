// A vitest reporter that lists every skipped test with its reason at the end of the run. Vitest's default reporter
// only counts skipped tests ("3 skipped"); our skips carry their reason in the test or suite name
// (`… — skipped: VK_ICD_FILENAMES is not set`) or in `ctx.skip(note)`, and a reader of `npm test` should see it.
// Used next to 'default' in every package's vitest.config.ts.

/** @implements {import('vitest/node').Reporter} */
export default class SkipReasonsReporter {
  /** @param {ReadonlyArray<import('vitest/node').TestModule>} modules */
  onTestRunEnd(modules) {
    const lines = [];
    for (const mod of modules) {
      for (const test of mod.children.allTests()) {
        const result = test.result();
        if (result.state !== 'skipped') continue;
        const note = result.note ? ` — ${result.note}` : '';
        lines.push(`  ↓ ${mod.moduleId.replace(`${process.cwd()}/`, '')} > ${test.fullName}${note}`);
      }
    }
    if (lines.length === 0) return;
    process.stdout.write(`\nSkipped tests and why (${lines.length}):\n${lines.join('\n')}\n`);
  }
}
