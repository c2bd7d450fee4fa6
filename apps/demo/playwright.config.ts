import { defineConfig } from '@playwright/test';
import type { DemoOptions } from './e2e/fixtures.js';

// MOR_DEMO_PORT moves the preview server (e.g. when another checkout's preview holds 4317: outside CI an
// existing server on the port is reused, and it would serve that checkout's build).
const PORT = Number(process.env['MOR_DEMO_PORT'] ?? 4317);

export default defineConfig<DemoOptions>({
  testDir: 'e2e',
  outputDir: 'test-results',
  // Both backends run side by side; each loads the model once and walks through the page in order.
  workers: 2,
  // SwiftShader compiles every WebGPU shader on the CPU: the first generation alone can take a minute on a
  // loaded 2-core machine.
  timeout: 300_000,
  expect: { timeout: 180_000 },
  reporter: [
    ['list'],
    ['./e2e/skip-reasons-reporter.ts'],
    ['html', { open: 'never', outputFolder: 'playwright-report' }],
  ],
  use: {
    baseURL: `http://localhost:${PORT}`,
    viewport: { width: 1200, height: 900 },
    acceptDownloads: true,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    // Debian's Chromium (never a downloaded browser). --enable-unsafe-webgpu gives headless Chromium a WebGPU
    // adapter (SwiftShader's Vulkan on machines without a GPU).
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless=new',
        '--no-sandbox',
        '--enable-unsafe-webgpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  projects: [
    { name: 'webgpu', use: { backend: 'webgpu' } },
    { name: 'wasm', use: { backend: 'wasm' } },
  ],
  webServer: {
    command: `npx vite build && npx vite preview --port ${PORT} --strictPort`,
    url: `http://localhost:${PORT}/`,
    reuseExistingServer: !process.env['CI'],
    timeout: 120_000,
    stdout: 'pipe',
  },
});
