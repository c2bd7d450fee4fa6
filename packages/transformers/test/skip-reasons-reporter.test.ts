import { describe, expect, it, vi } from 'vitest';
import SkipReasons from '../../../scripts/skip-reasons-reporter.mjs';

/** The parts of vitest's TestModule / TestCase the reporter reads. */
function moduleWith(tests: { fullName: string; state: string; note?: string }[]) {
  return {
    moduleId: `${process.cwd()}/test/x.test.ts`,
    children: {
      *allTests() {
        for (const t of tests)
          yield { fullName: t.fullName, result: () => ({ state: t.state, note: t.note }) };
      },
    },
  };
}

describe('the skip-reasons reporter (npm test said "3 skipped" and never why)', () => {
  it('lists every skipped test with its name (holding the reason) and its ctx.skip note', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      new SkipReasons().onTestRunEnd([
        moduleWith([
          { fullName: 'WebGPU — skipped: VK_ICD_FILENAMES is not set > runs', state: 'skipped' },
          { fullName: 'cuda hint', state: 'skipped', note: 'the CUDA provider is installed here' },
          { fullName: 'a test that ran', state: 'passed' },
        ]),
      ]);
      const text = write.mock.calls.map((c) => String(c[0])).join('');
      expect(text).toContain('Skipped tests and why (2):');
      expect(text).toContain('test/x.test.ts > WebGPU — skipped: VK_ICD_FILENAMES is not set > runs');
      expect(text).toContain('cuda hint — the CUDA provider is installed here');
      expect(text).not.toContain('a test that ran');
    } finally {
      write.mockRestore();
    }
  });
});
