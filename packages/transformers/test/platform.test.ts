import { describe, expect, it, vi } from 'vitest';

describe('platform registry', () => {
  // In Node `@mor/engine` resolves to its Node entry, which registers the platform: what a browser sees (no
  // platform) is stood in for by an engine whose registry is empty.
  it('adapter paths without the Node platform say what to import', async () => {
    vi.resetModules();
    vi.doMock('@mor/engine', async () => ({
      ...(await vi.importActual<typeof import('@mor/engine')>('@mor/engine')),
      registeredPlatform: () => undefined,
    }));
    const { AdapterLoadError } = await import('@mor/engine');
    const { resolveAdapter } = await import('../src/adapter-input.js');
    const error = await resolveAdapter('some/dir').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdapterLoadError);
    expect((error as Error).message).toBe(
      'cannot load adapter from "some/dir": adapter paths need @mor/engine/node (import it once in Node)',
    );
    vi.doUnmock('@mor/engine');
  });
});
