import type { Page } from '@playwright/test';
import { expect, pageUrl, test } from './fixtures.js';

// The page's default: the WordNet-pretrained base (models/wordnet-llama), fp32 and q4. What a user sees: the base
// model answers the held-out prompts of the WordNet tasks; training an adapter in the page changes those answers;
// the router heat-map then has one row per task. WASM only: on SwiftShader WebGPU every step of this model takes
// seconds (the random test model's spec covers training on WebGPU).

interface Answer {
  task: string;
  prompt: string;
  base: string | null;
  adapter: string | null;
}
interface GateData {
  modules: string[];
  experts: number;
  tokens: string[];
  rows: number[][];
}
const TASKS = ['antonym', 'hypernym', 'part-of-speech', 'synonym', 'word-for'];
const firstLine = (t: string) => t.split('\n')[0]!.trim().toLowerCase();
const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

async function answers(page: Page): Promise<Answer[]> {
  return JSON.parse((await page.locator('#heldout').getAttribute('data-answers')) ?? '[]') as Answer[];
}

async function trainAndCheck(page: Page, steps: number, name: string, outputPath: (f: string) => string) {
  await page.locator('#train-init').selectOption('fresh');
  await page.locator('#train-steps').fill(String(steps));
  await page.locator('#train-batch').fill('8');
  await page.locator('#train-lr').fill('0.01');
  await page.locator('#train-seed').fill('0');
  await page.locator('#train-optimizer').selectOption('adamw');
  const started = Date.now();
  await page.locator('#train-start').click();
  const stats = page.locator('#train-stats');
  await expect(stats).toHaveAttribute('data-state', /^(done|stopped|error)$/, { timeout: 280_000 });
  expect(await stats.textContent()).not.toContain('Training failed');
  await expect(page.locator('#heldout')).toHaveAttribute('data-state', 'adapter');
  console.log(
    `[${name}] ${steps} steps + answers in ${((Date.now() - started) / 1000).toFixed(1)} s: ${await stats.textContent()}`,
  );
  const losses = JSON.parse(
    (await page.locator('#loss-plot').getAttribute('data-losses')) ?? '[]',
  ) as number[];
  expect(losses).toHaveLength(steps);
  expect(mean(losses.slice(-3))).toBeLessThan(mean(losses.slice(0, 3)));

  // The answers to the held-out prompts changed, and the table shows it.
  const after = await answers(page);
  const changed = after.filter((a) => firstLine(a.base!) !== firstLine(a.adapter!));
  console.log(`[${name}] ${changed.length}/${after.length} held-out answers changed`);
  for (const a of after)
    console.log(
      `  ${a.prompt} | base ${JSON.stringify(firstLine(a.base!))} | adapter ${JSON.stringify(firstLine(a.adapter!))}`,
    );
  expect(changed.length).toBeGreaterThanOrEqual(after.length / 2);
  await expect(page.locator('#heldout-table td.changed')).toHaveCount(changed.length);

  // The router heat-map per task: one row per task, each module's gates summing to 1, drawn on a canvas.
  const heatmap = page.locator('#task-heatmap');
  const gates = JSON.parse((await heatmap.getAttribute('data-gates')) ?? '') as GateData;
  expect([...gates.tokens].sort()).toEqual(TASKS);
  expect(gates.rows).toHaveLength(TASKS.length);
  for (const row of gates.rows)
    for (let m = 0; m < gates.modules.length; m++) {
      const sum = row.slice(m * gates.experts, (m + 1) * gates.experts).reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - 1)).toBeLessThan(1e-4);
    }
  await expect(heatmap.locator('canvas')).toBeVisible();
  await expect(heatmap).toContainText('rows: tasks');
  await page.locator('#heldout-card').scrollIntoViewIfNeeded();
  await page.screenshot({ path: outputPath(`heldout-${name}.png`), fullPage: true });
}

test.describe('WordNet base model in the page', () => {
  test.beforeEach(({ backend }) => {
    test.skip(backend !== 'wasm', 'wordnet-llama training steps take seconds each on SwiftShader WebGPU');
  });

  test('loads by default, writes readable text, and training changes the held-out answers (fp32)', async ({
    page,
    backend,
  }, testInfo) => {
    test.setTimeout(300_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pageUrl(backend, 'wordnet'));
    await expect(page.locator('#model-id')).toHaveValue('wordnet-llama');
    await expect(page.locator('#heldout')).toHaveAttribute('data-state', 'base');
    await expect(page.locator('#status')).toHaveAttribute('data-state', 'ready');
    const before = await answers(page);
    expect(before.map((a) => a.task).sort()).toEqual([...TASKS, ...TASKS].sort());
    expect(before.every((a) => typeof a.base === 'string' && a.adapter === null)).toBe(true);
    await expect(page.locator('#dataset tbody tr')).toHaveCount(80);

    // The base model writes English: the WordNet gloss register, no random-weights note.
    await page.locator('#prompt').fill('dog (noun):');
    await page.locator('#max-new-tokens').fill('10');
    await page.locator('#generate-button').click();
    await expect(page.locator('#output')).toHaveAttribute('data-adapter', 'off');
    await expect(page.locator('#output .continuation')).toContainText('a person');
    await expect(page.locator('#output .weights-note')).toHaveCount(0);

    await trainAndCheck(page, 30, 'fp32', (f) => testInfo.outputPath(f));
    expect(errors).toEqual([]);
  });

  test('the q4 weights (4-bit MatMulNBits) load, answer and train in the page', async ({
    page,
    backend,
  }, testInfo) => {
    test.setTimeout(300_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pageUrl(backend, 'wordnet-q4'));
    await expect(page.locator('#model-dtype')).toHaveValue('q4');
    await expect(page.locator('#heldout')).toHaveAttribute('data-state', 'base');
    await expect(page.locator('#status')).toContainText('(q4)');
    await trainAndCheck(page, 20, 'q4', (f) => testInfo.outputPath(f));
    expect(errors).toEqual([]);
  });

  test('the q4f16 weights (4-bit, float16 activations) load, answer and train in the page', async ({
    page,
    backend,
  }, testInfo) => {
    test.setTimeout(300_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pageUrl(backend, 'wordnet-q4f16'));
    await expect(page.locator('#model-dtype')).toHaveValue('q4f16');
    await expect(page.locator('#heldout')).toHaveAttribute('data-state', 'base');
    await expect(page.locator('#status')).toContainText('(q4f16)');
    // float16 activations, float32 adapter with dynamic loss scaling: the loss still falls and the answers change.
    await trainAndCheck(page, 20, 'q4f16', (f) => testInfo.outputPath(f));
    expect(errors).toEqual([]);
  });
});

test.describe('q4f16 on a WebGPU adapter without shader-f16', () => {
  test('is refused with the reason and what to pick instead', async ({ page, backend }) => {
    test.skip(backend !== 'webgpu', 'the check is about WebGPU adapters');
    await page.goto(pageUrl(backend, 'wordnet-q4f16'));
    const hasF16 = await page.evaluate(async () => {
      const gpu = (
        navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ features: Set<string> } | null> } }
      ).gpu;
      const adapter = await gpu?.requestAdapter();
      return adapter?.features.has('shader-f16') ?? false;
    });
    test.skip(hasF16, 'this adapter has shader-f16: q4f16 runs on it');
    await expect(page.locator('#status')).toHaveAttribute('data-state', 'error');
    await expect(page.locator('#status')).toContainText("q4f16 needs WebGPU's shader-f16");
    await expect(page.locator('#status')).toContainText('?backend=wasm');
  });
});
