// CI's fuzz run: every target, 10,000 inputs each, through the same command as the long runs (bin/fuzz.mjs,
// one worker per target with a hang watchdog). Every outcome must be a result or one of our typed errors.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { TargetSummary } from '../src/index.js';
import { TARGETS } from '../src/targets/index.js';

const CLI = fileURLToPath(new URL('../bin/fuzz.mjs', import.meta.url));
const INPUTS = 10_000;

describe('fuzz targets (CI run)', () => {
  it(`every target takes ${INPUTS} inputs with 0 uncaught errors, hangs or input-sized allocations`, async () => {
    const out = mkdtempSync(join(tmpdir(), 'mor-fuzz-failures-'));
    const run = await promisify(execFile)(
      process.execPath,
      [
        CLI,
        '--target',
        'all',
        '--inputs',
        String(INPUTS),
        '--seed',
        '1',
        '--jobs',
        '2',
        '--json',
        '--out',
        out,
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    ).catch((e: { stdout?: string; stderr?: string }) => e);
    const summaries = JSON.parse(run.stdout ?? '[]') as TargetSummary[];
    expect(summaries.map((s) => s.target)).toEqual(TARGETS.map((t) => t.name));
    for (const s of summaries) {
      const report = s.failures.map((f) => `#${f.index} ${f.reason} ${f.name}: ${f.message}\n  ${f.replay}`);
      expect(report, `${s.target}: ${s.failureCount} failures`).toEqual([]);
      expect(s.tried).toBe(INPUTS);
      expect(s.results + Object.values(s.typed).reduce((a, b) => a + b, 0)).toBe(INPUTS);
    }
  });
});
