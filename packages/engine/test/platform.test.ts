import { describe, expect, it, vi } from 'vitest';

// A fresh module graph without test/node-platform.ts's registration: what a browser (or Node reaching
// dist/index.js past the `node` export condition) sees.
async function withoutPlatform() {
  vi.resetModules();
  const platform = await import('../src/platform.js');
  expect(platform.registeredPlatform()).toBeUndefined();
  return platform;
}

describe('platform registry', () => {
  it('a file-backed session without @mor/engine/node says what to import', async () => {
    const { PlatformMissingError } = await withoutPlatform();
    const { openSessionModel } = await import('../src/session-model.js');
    const model = { bytes: new Uint8Array(), externalData: [{ path: 'w.bin', data: new Uint8Array(4) }] };
    const error = await openSessionModel(model, () => Promise.resolve(null), {}, true).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PlatformMissingError);
    expect((error as Error).message).toBe(
      'file-backed sessions need @mor/engine/node (import it once in Node)',
    );
  });

  it('importing @mor/engine/node registers the Node platform', async () => {
    vi.resetModules();
    const { registeredPlatform } = await import('../src/platform.js');
    expect(registeredPlatform()).toBeUndefined();
    const { nodePlatform } = await import('../src/node/index.js');
    expect(registeredPlatform()).toBe(nodePlatform);
    expect(nodePlatform.name).toBe('node');
  }, 60_000);
});
