import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `npm run story` (the README's main job) runs end to end on the WordNet-pretrained base and the WordNet tasks:
// training lowers the held-out loss, the adapter changes the answers to held-out prompts, and the router
// statistics come out per task.
const root = fileURLToPath(new URL('../../../', import.meta.url));

interface StorySummary {
  heldOutRows: number;
  tasks: Record<string, { base: number; adapter: number; of: number }>;
  changedAnswers: number;
  answers: { task: string; prompt: string; base: string; adapter: string }[];
  gates: Record<string, number[]>;
}

describe('npm run story', () => {
  it('trains on the WordNet tasks: held-out loss drops, held-out answers change, gates per task', async () => {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, ['scripts/story.mjs'], { cwd: root, maxBuffer: 64 << 20 }, (err, out) =>
        resolve({ code: err ? 1 : 0, stdout: out }),
      );
    });
    expect(code).toBe(0);
    expect(stdout).toContain('Done. Everything is under out/story/');
    expect(stdout).not.toMatch(/random weights|noise/);

    const trained = JSON.parse(readFileSync(`${root}out/story/adapter/training_summary.json`, 'utf8')) as {
      metrics: { eval_loss_before: number; eval_loss_after: number };
    };
    expect(trained.metrics.eval_loss_after).toBeLessThan(trained.metrics.eval_loss_before - 1);

    const s = JSON.parse(readFileSync(`${root}out/story/story-summary.json`, 'utf8')) as StorySummary;
    const tasks = ['antonym', 'hypernym', 'part-of-speech', 'synonym', 'word-for'];
    expect(Object.keys(s.tasks).sort()).toEqual(tasks);
    expect(s.answers).toHaveLength(s.heldOutRows);
    // The base model reads the prompts as WordNet glosses; the adapter answers in the tasks' form instead.
    expect(s.changedAnswers).toBeGreaterThan(s.heldOutRows / 2);
    const correct = (k: 'base' | 'adapter') => tasks.reduce((n, t) => n + s.tasks[t]![k], 0);
    expect(correct('adapter')).toBeGreaterThan(correct('base'));
    for (const t of tasks) {
      const g = s.gates[t]!;
      expect(g).toHaveLength(4);
      expect(g.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    expect(stdout).toContain('Mean router gate per task');
  }, 300_000);
});
