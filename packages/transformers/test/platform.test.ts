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
  it('adapter paths without @mor/transformers/node say what to import', async () => {
    await withoutPlatform();
    const { resolveAdapter } = await import('../src/adapter-input.js');
    const { AdapterLoadError } = await import('../src/errors.js');
    const error = await resolveAdapter('some/dir').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdapterLoadError);
    expect((error as Error).message).toBe(
      'cannot load adapter from "some/dir": adapter paths need @mor/transformers/node (import it once in Node)',
    );
  });

  it('a file-backed session without it says so too', async () => {
    const { PlatformMissingError } = await withoutPlatform();
    const { openSessionModel } = await import('../src/session-model.js');
    const model = { bytes: new Uint8Array(), externalData: [{ path: 'w.bin', data: new Uint8Array(4) }] };
    const error = await openSessionModel(model, () => Promise.resolve(null), {}, true).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PlatformMissingError);
    expect((error as Error).message).toBe(
      'file-backed sessions need @mor/transformers/node (import it once in Node)',
    );
  });

  it('importing @mor/transformers/node registers the Node platform', async () => {
    vi.resetModules();
    const { registeredPlatform } = await import('../src/platform.js');
    expect(registeredPlatform()).toBeUndefined();
    const { nodePlatform } = await import('../src/node/index.js');
    expect(registeredPlatform()).toBe(nodePlatform);
    expect(nodePlatform.name).toBe('node');
  }, 60_000);
});
