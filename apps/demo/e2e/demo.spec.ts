import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { parseAdapter, parseTrainingSummary, type MorAdapter } from '@mor/format';
import { strFromU8, unzipSync } from 'fflate';
import { expect, pageUrl, readFixture, readGolden, test } from './fixtures.js';
import { initialAdapter, referenceTraining, type TrainSettings } from './reference-training.js';

const golden = readGolden();
const fixtureAdapter = parseAdapter(
  strFromU8(readFixture('tiny-llama-kv/mor-adapter/adapter_config.json')),
  readFixture('tiny-llama-kv/mor-adapter/adapter_model.safetensors'),
) as MorAdapter;

/**
 * What each backend trains. WASM: a fresh seeded adapter, 12 steps of 8 rows. WebGPU runs on SwiftShader here
 * (each step takes seconds), so it trains fewer, smaller steps, starting from the loaded adapter: both init paths
 * are covered. The learning rates are chosen so that the loss falls within those few steps.
 */
const TRAINING: Record<'webgpu' | 'wasm', TrainSettings> = {
  wasm: { init: 'fresh', steps: 12, batchSize: 8, learningRate: 0.01, seed: 0 },
  webgpu: { init: 'loaded', steps: 8, batchSize: 4, learningRate: 0.02, seed: 0 },
};
/** Page vs Node (onnxruntime-node CPU) per-step loss: wasm is the same CPU arithmetic; WebGPU kernels differ. */
const LOSS_TOLERANCE = { wasm: 1e-3, webgpu: 1e-2 };
/** Page vs Node: least cosine similarity of the weight updates (trained − initial) over the whole adapter. */
const UPDATE_COSINE = { wasm: 0.999, webgpu: 0.99 };
/** The first/last k steps whose mean losses are compared. */
const K = 3;

const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const LAYER_TENSORS = ['A', 'B', 'omegaA', 'omegaB', 'routerWeight'] as const;

interface GateData {
  modules: string[];
  experts: number;
  tokens: string[];
  firstGeneratedRow: number;
  rows: number[][];
}

async function generate(
  page: Page,
  adapter: 'on' | 'off',
): Promise<{ promptIds: number[]; tokenIds: number[] }> {
  const toggle = page.locator('#adapter-toggle');
  if ((await toggle.isChecked()) !== (adapter === 'on')) {
    await toggle.setChecked(adapter === 'on');
    await expect(page.locator('#status')).toHaveAttribute('data-state', 'ready');
  }
  await page.locator('#prompt').fill(golden.prompt);
  await page.locator('#max-new-tokens').fill(String(golden.max_new_tokens));
  await page.locator('#generate-button').click();
  const output = page.locator('#output');
  await expect(output).toHaveAttribute('data-adapter', adapter);
  await expect(page.locator('#status')).toHaveAttribute('data-state', 'ready');
  return {
    promptIds: JSON.parse((await output.getAttribute('data-prompt-ids')) ?? 'null') as number[],
    tokenIds: JSON.parse((await output.getAttribute('data-token-ids')) ?? 'null') as number[],
  };
}

test.describe.configure({ mode: 'serial' });

test.describe('MoR demo', () => {
  let page: Page;
  const errors: string[] = [];
  /** The fixture adapter's gates (heat-map test), the page's training losses and initial adapter. */
  let gatesBefore = '';
  let losses: number[] = [];
  let initial: MorAdapter;
  let referenceAdapter: MorAdapter;

  test.beforeAll(async ({ browser, backend }) => {
    page = await browser.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(pageUrl(backend));
  });
  test.afterAll(async () => {
    await page.close();
  });

  test('loads the bundled model and adapter on the expected backend', async ({ backend }, testInfo) => {
    await expect(page.locator('#status')).toHaveAttribute('data-state', 'ready');
    await expect(page.locator('#backend')).toHaveAttribute('data-backend', backend);
    await expect(page.locator('#backend-name')).toHaveText(backend);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await expect(page.locator('#adapter-toggle')).toBeChecked();
    await page.screenshot({ path: testInfo.outputPath(`loaded-${backend}.png`), fullPage: true });
  });

  test('greedy generation with the adapter matches the PyTorch golden', async ({ backend }, testInfo) => {
    const withAdapter = await generate(page, 'on');
    expect(withAdapter.promptIds).toEqual(golden.prompt_ids);
    expect(withAdapter.tokenIds).toEqual(golden.greedy_mor);
    // The text is noise by design: the page says so where the text is shown.
    await expect(page.locator('#output .weights-note')).toContainText('random weights');
    await page.screenshot({ path: testInfo.outputPath(`generate-mor-${backend}.png`), fullPage: true });
  });

  test('renders the router heat-map of that generation, gates summing to 1', async ({
    backend,
  }, testInfo) => {
    const heatmap = page.locator('#heatmap');
    const gates = JSON.parse((await heatmap.getAttribute('data-gates')) ?? '') as GateData;
    expect(gates.modules).toHaveLength(6); // 2 layers × gate/up/down_proj
    expect(gates.experts).toBe(4);
    // Every prompt token plus every generated token that was fed back (all but the last).
    expect(gates.rows).toHaveLength(golden.prompt_ids.length + golden.max_new_tokens - 1);
    expect(gates.tokens).toHaveLength(gates.rows.length);
    expect(gates.firstGeneratedRow).toBe(golden.prompt_ids.length);
    for (const row of gates.rows) {
      expect(row).toHaveLength(gates.modules.length * gates.experts);
      for (let m = 0; m < gates.modules.length; m++) {
        const group = row.slice(m * gates.experts, (m + 1) * gates.experts);
        expect(group.every((g) => g >= 0 && g <= 1)).toBe(true);
        expect(Math.abs(group.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
      }
    }
    gatesBefore = JSON.stringify(gates.rows);
    // The router is not uniform: some gates differ from 1/N.
    expect(gates.rows.flat().some((g) => Math.abs(g - 1 / gates.experts) > 0.01)).toBe(true);

    const canvas = heatmap.locator('canvas');
    const colours = await canvas.evaluate((c: HTMLCanvasElement) => {
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < data.length; i += 4)
        seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
      return seen.size;
    });
    expect(colours).toBeGreaterThan(20);

    await canvas.scrollIntoViewIfNeeded(); // the mouse moves in viewport coordinates
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + 96 + 9, box.y + 44 + 8); // the first cell (label column 96 px, header 44 px)
    const tooltip = heatmap.locator('.heatmap-tooltip');
    await expect(tooltip).toBeVisible();
    await expect(tooltip).toContainText(`${gates.modules[0]} · expert 0: ${gates.rows[0]![0]!.toFixed(4)}`);
    await heatmap.screenshot({ path: testInfo.outputPath(`heatmap-${backend}.png`) });
  });

  test('greedy generation without the adapter matches the base golden', async ({ backend }, testInfo) => {
    const base = await generate(page, 'off');
    expect(base.promptIds).toEqual(golden.prompt_ids);
    expect(base.tokenIds).toEqual(golden.greedy_base);
    await expect(page.locator('#heatmap')).toHaveAttribute('data-gates', '');
    await page.screenshot({ path: testInfo.outputPath(`generate-base-${backend}.png`), fullPage: true });
  });

  test('downloads the adapter as a zip that @mor/format parses back unchanged', async ({
    backend,
  }, testInfo) => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#download-adapter').click(),
    ]);
    expect(download.suggestedFilename()).toBe('mor-adapter.zip');
    const zipPath = testInfo.outputPath(`mor-adapter-${backend}.zip`);
    await download.saveAs(zipPath);
    const files = unzipSync(new Uint8Array(readFileSync(zipPath)));
    expect(Object.keys(files).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const adapter = parseAdapter(
      strFromU8(files['adapter_config.json']!),
      files['adapter_model.safetensors']!,
    );
    const original = parseAdapter(
      strFromU8(readFixture('tiny-llama-kv/mor-adapter/adapter_config.json')),
      readFixture('tiny-llama-kv/mor-adapter/adapter_model.safetensors'),
    ) as MorAdapter;
    expect(adapter.kind).toBe('mor');
    expect((adapter as MorAdapter).config).toEqual(original.config);
    expect([...adapter.layers.keys()].sort()).toEqual([...original.layers.keys()].sort());
    for (const [module, layer] of original.layers) expect(adapter.layers.get(module)).toEqual(layer);
  });

  test('shows the training panel with the engine ready', async ({ backend }, testInfo) => {
    await expect(page.locator('#train-start')).toBeEnabled();
    await expect(page.locator('#train-note')).toBeEmpty();
    await expect(page.locator('#train-backend')).toHaveText(backend);
    await expect(page.locator('#dataset tbody tr')).toHaveCount(24);
    await expect(page.locator('#train-stats')).toHaveAttribute('data-state', 'idle');
    await expect(page.locator('#loss-plot')).toHaveAttribute('data-losses', '[]');
    await page.locator('#train-card').scrollIntoViewIfNeeded();
    await page.screenshot({ path: testInfo.outputPath(`page-${backend}.png`), fullPage: true });
  });

  test('trains the adapter in the page: the measured loss falls and matches onnxruntime-node', async ({
    backend,
  }, testInfo) => {
    test.setTimeout(300_000);
    const settings = TRAINING[backend];
    await page.locator('#train-init').selectOption(settings.init);
    await page.locator('#train-steps').fill(String(settings.steps));
    await page.locator('#train-batch').fill(String(settings.batchSize));
    await page.locator('#train-lr').fill(String(settings.learningRate));
    await page.locator('#train-seed').fill(String(settings.seed));
    await page.locator('#train-optimizer').selectOption('adamw');
    // Record the panel's states (and whether Generate was locked) as they happen: a WASM run can be over in
    // seconds, before a polling assertion would see it running.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { trainStates: string[] }).trainStates = seen;
      const stats = document.getElementById('train-stats')!;
      const generate = document.getElementById('generate-button') as HTMLButtonElement;
      new MutationObserver(() => seen.push(`${stats.dataset['state']}:${generate.disabled}`)).observe(stats, {
        attributes: true,
        attributeFilter: ['data-state'],
      });
    });
    const started = Date.now();
    await page.locator('#train-start').click();
    const stats = page.locator('#train-stats');
    await expect(stats).toHaveAttribute('data-state', /^(done|stopped|error)$/, { timeout: 280_000 });
    expect(await stats.textContent()).not.toContain('Training failed');
    await expect(stats).toHaveAttribute('data-state', 'done');
    const seconds = (Date.now() - started) / 1000;
    const states = await page.evaluate(() => (window as unknown as { trainStates: string[] }).trainStates);
    // Generate was locked while it ran, and is free again now.
    expect(states).toContain('running:true');
    await expect(page.locator('#generate-button')).toBeEnabled();
    console.log(
      `[${backend}] ${settings.steps} steps in ${seconds.toFixed(1)} s: ${await stats.textContent()}`,
    );

    const plot = page.locator('#loss-plot');
    losses = JSON.parse((await plot.getAttribute('data-losses')) ?? '[]') as number[];
    expect(losses).toHaveLength(settings.steps);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(mean(losses.slice(-K))).toBeLessThan(mean(losses.slice(0, K)));
    await expect(plot).toHaveAttribute('data-drawn', String(settings.steps));
    // The curve is drawn: the canvas holds pixels of the line colour (#2563eb).
    const linePixels = await plot.evaluate((c: HTMLCanvasElement) => {
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4)
        if (
          Math.abs(data[i]! - 0x25) < 24 &&
          Math.abs(data[i + 1]! - 0x63) < 24 &&
          Math.abs(data[i + 2]! - 0xeb) < 24
        )
          n++;
      return n;
    });
    expect(linePixels).toBeGreaterThan(100);
    await expect(stats).toContainText(`Trained ${settings.steps} steps on ${backend}`);
    await expect(page.locator('#status')).toHaveAttribute('data-state', 'ready');
    await page
      .locator('#train-card')
      .screenshot({ path: testInfo.outputPath(`trained-loss-${backend}.png`) });

    // The same run in Node gives the same losses: the page shows the real optimisation.
    initial = await initialAdapter(settings, fixtureAdapter);
    const reference = await referenceTraining(settings, initial);
    referenceAdapter = reference.adapter;
    console.log(`[${backend}] page losses ${losses.map((l) => l.toFixed(4)).join(' ')}`);
    console.log(`[${backend}] node losses ${reference.losses.map((l) => l.toFixed(4)).join(' ')}`);
    for (let i = 0; i < losses.length; i++)
      expect(Math.abs(losses[i]! - reference.losses[i]!)).toBeLessThan(LOSS_TOLERANCE[backend]);
  });

  test('generates with the trained adapter; the heat-map shows its router', async ({ backend }, testInfo) => {
    test.setTimeout(180_000);
    const heatmap = page.locator('#heatmap');
    await expect(heatmap).toHaveAttribute('data-gates', '');
    const trained = await generate(page, 'on');
    expect(trained.promptIds).toEqual(golden.prompt_ids);
    expect(trained.tokenIds).toHaveLength(golden.max_new_tokens);
    const gates = JSON.parse((await heatmap.getAttribute('data-gates')) ?? '') as GateData;
    expect(gates.rows).toHaveLength(golden.prompt_ids.length + golden.max_new_tokens - 1);
    for (const row of gates.rows)
      for (let m = 0; m < gates.modules.length; m++) {
        const group = row.slice(m * gates.experts, (m + 1) * gates.experts);
        expect(Math.abs(group.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
      }
    // Not the fixture adapter's router any more.
    expect(JSON.stringify(gates.rows)).not.toEqual(gatesBefore);
    await expect(page.locator('#adapter-summary')).toContainText('attached');
    await page.screenshot({ path: testInfo.outputPath(`generate-trained-${backend}.png`), fullPage: true });
    await heatmap.screenshot({ path: testInfo.outputPath(`heatmap-trained-${backend}.png`) });
  });

  test('downloads the TRAINED adapter: parseAdapter accepts it and its weights moved', async ({
    backend,
  }, testInfo) => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#download-adapter').click(),
    ]);
    const zipPath = testInfo.outputPath(`mor-adapter-trained-${backend}.zip`);
    await download.saveAs(zipPath);
    const files = unzipSync(new Uint8Array(readFileSync(zipPath)));
    expect(Object.keys(files).sort()).toEqual([
      'adapter_config.json',
      'adapter_model.safetensors',
      'training_summary.json',
    ]);
    const adapter = parseAdapter(
      strFromU8(files['adapter_config.json']!),
      files['adapter_model.safetensors']!,
    ) as MorAdapter;
    expect(adapter.kind).toBe('mor');
    expect(adapter.config).toEqual(initial.config);
    expect([...adapter.layers.keys()].sort()).toEqual([...initial.layers.keys()].sort());
    for (const [module, start] of initial.layers) {
      const layer = adapter.layers.get(module)!;
      for (const name of LAYER_TENSORS) expect(layer[name]).toHaveLength(start[name].length);
      // Training moved every layer's up-projection B (zeros in a fresh adapter) and its router.
      expect(maxAbsDiff(layer.B, start.B)).toBeGreaterThan(1e-4);
      expect(maxAbsDiff(layer.routerWeight, start.routerWeight)).toBeGreaterThan(0);
    }
    // …the way the same run moves them in Node: the update (trained − initial) points the same way. AdamW moves
    // a weight by about lr per step even when its gradient is ~0, where the sign is rounding noise, so single
    // weights may differ by a few 1e-4; the update as a whole must agree.
    const delta = (a: MorAdapter) =>
      [...initial.layers].flatMap(([module, start]) =>
        LAYER_TENSORS.flatMap((name) => {
          const now = a.layers.get(module)![name];
          return Array.from(now, (v, i) => v - start[name][i]!);
        }),
      );
    const page_ = delta(adapter);
    const node = delta(referenceAdapter);
    let dot = 0;
    let pp = 0;
    let nn = 0;
    for (let i = 0; i < page_.length; i++) {
      dot += page_[i]! * node[i]!;
      pp += page_[i]! ** 2;
      nn += node[i]! ** 2;
    }
    const cosine = dot / Math.sqrt(pp * nn);
    let worst = 0;
    for (let i = 0; i < page_.length; i++) worst = Math.max(worst, Math.abs(page_[i]! - node[i]!));
    console.log(
      `[${backend}] update vs onnxruntime-node: cosine ${cosine.toFixed(6)}, max |Δ| ${worst.toExponential(2)}, ` +
        `update norm ${Math.sqrt(pp).toFixed(4)}`,
    );
    expect(cosine).toBeGreaterThan(UPDATE_COSINE[backend]);
    const summary = parseTrainingSummary(strFromU8(files['training_summary.json']!));
    const settings = TRAINING[backend];
    expect(summary.training).toMatchObject({
      backend,
      init: settings.init,
      steps: settings.steps,
      batch_size: settings.batchSize,
      learning_rate: settings.learningRate,
      optimizer: 'adamw',
    });
    expect(summary.metrics?.['train_loss_final']).toBeCloseTo(losses.at(-1)!, 5);
    expect(summary.metrics?.['train_loss_first']).toBeCloseTo(losses[0]!, 5);
    expect(errors).toEqual([]);
  });

  test('Stop ends a run between two steps and keeps the weights reached', async ({ backend }) => {
    test.skip(
      backend === 'webgpu',
      'WebGPU steps take seconds on SwiftShader; the stop path is the same code',
    );
    await page.locator('#train-steps').fill('500');
    await page.locator('#train-start').click();
    const stats = page.locator('#train-stats');
    await expect(stats).toHaveAttribute('data-state', 'running');
    const plot = page.locator('#loss-plot');
    await expect
      .poll(async () => (JSON.parse((await plot.getAttribute('data-losses')) ?? '[]') as number[]).length)
      .toBeGreaterThanOrEqual(2);
    await page.locator('#train-stop').click();
    await expect(stats).toHaveAttribute('data-state', 'stopped');
    const run = JSON.parse((await plot.getAttribute('data-losses')) ?? '[]') as number[];
    expect(run.length).toBeGreaterThanOrEqual(2);
    expect(run.length).toBeLessThan(500);
    await expect(stats).toContainText(`Stopped after ${run.length} steps`);
    await expect(page.locator('#train-start')).toBeEnabled();
    expect(errors).toEqual([]);
  });
});
