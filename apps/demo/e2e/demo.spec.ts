import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { parseAdapter, type MorAdapter } from '@mor/format';
import { strFromU8, unzipSync } from 'fflate';
import { expect, pageUrl, readFixture, readGolden, test } from './fixtures.js';

const golden = readGolden();

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

  test('shows the training panel with the engine marked unavailable', async ({ backend }, testInfo) => {
    await expect(page.locator('#train-start')).toBeDisabled();
    await expect(page.locator('#train-note')).toContainText('Training engine not available yet');
    await expect(page.locator('#train-backend')).toHaveText(backend);
    await expect(page.locator('#dataset tbody tr')).toHaveCount(24);
    await page.locator('#train-card').scrollIntoViewIfNeeded();
    await page.screenshot({ path: testInfo.outputPath(`page-${backend}.png`), fullPage: true });
    expect(errors).toEqual([]);
  });
});
