import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `npm run story` (the README's main job) runs end to end, and says the bundled model has random weights before
// it shows generated text (a new user read the noise as a failure: issue 13, sharp edge 8).
const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('npm run story', () => {
  it('runs every step and warns that the bundled model is random before the first generation', async () => {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, ['scripts/story.mjs'], { cwd: root, maxBuffer: 64 << 20 }, (err, out) =>
        resolve({ code: err ? 1 : 0, stdout: out }),
      );
    });
    expect(code).toBe(0);
    const note = stdout.indexOf('has random weights, so the generated text below is noise');
    const firstGeneration = stdout.indexOf('== Generate');
    expect(note).toBeGreaterThan(-1);
    expect(firstGeneration).toBeGreaterThan(note);
    expect(stdout).toContain('Done. Everything is under out/story/');
  }, 300_000);
});
