// Hub answers the fuzz harness (tooling/fuzz) found, minimized: each once hung a pull (a listing without end),
// or escaped as a HubError quoting a runtime fault ("items is not iterable", "[object Object]").
import { describe, expect, it } from 'vitest';
import { HubError, fetchAdapterFiles } from '../../src/index.js';
import { MAX_LISTING_PAGES } from '../../src/hub/repo-files.js';

const HUB = 'https://hub.test.invalid';
const REPO = 'user/adapter';

/** A Hub whose tree listing answers `body` (with `status`), optionally linking to itself as the next page. */
function listingHub(body: string, options: { status?: number; endless?: boolean } = {}) {
  let pages = 0;
  const fetch = (async (input: string | URL | Request) => {
    const url = String(input instanceof Request ? input.url : input);
    if (!url.includes('/tree/')) return new Response('{}', { status: 404 });
    pages++;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.endless) headers['link'] = `<${url}>; rel="next"`;
    return new Response(body, { status: options.status ?? 200, headers });
  }) as typeof globalThis.fetch;
  return { fetch, pages: () => pages };
}

async function refusal(body: string, options: { status?: number; endless?: boolean } = {}) {
  const hub = listingHub(body, options);
  const error = await fetchAdapterFiles({ repo: REPO, hubUrl: HUB, fetch: hub.fetch }).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HubError);
  const message = (error as Error).message;
  expect(message).not.toMatch(/is not iterable|is not a function|Cannot read|\[object Object\]|call stack/);
  return { message, pages: hub.pages() };
}

describe('Hub answers found by fuzzing', () => {
  it('stops a listing whose next page never ends', async () => {
    const { message, pages } = await refusal('[]', { endless: true });
    expect(message).toBe(
      `${REPO}@main: the file listing goes on past ${MAX_LISTING_PAGES} pages (a Link to a next page that never ends?): refusing to pull from it`,
    );
    expect(pages).toBe(MAX_LISTING_PAGES);
  });

  it('refuses a listing that is not a list, or entries that are not what the Hub sends', async () => {
    expect((await refusal('{"path":"x"}')).message).toBe(
      `the Hub's answer is malformed (while pulling from ${REPO}); is ${HUB} a Hugging Face Hub?`,
    );
    expect((await refusal('[7]')).message).toContain('file listing is malformed: entry is not an object');
    expect((await refusal('[{"type":"file","path":5,"size":1}]')).message).toContain(
      'entry has no string "path"',
    );
    expect(
      (await refusal('[{"type":"file","path":"adapter_config.json","size":{"n":1}}]')).message,
    ).toContain('entry "adapter_config.json" has no byte count "size"');
    expect(
      (await refusal('[{"type":"file","path":"adapter_model.safetensors","size":4,"lfs":null}]')).message,
    ).toContain('entry "adapter_model.safetensors" has an "lfs" that is not {oid, size}');
  });

  it('says what a refusal with a JSON error that is not a string means, without [object Object]', async () => {
    expect((await refusal('{"error":{"code":7}}', { status: 500 })).message).toBe(
      `the Hub failed while pulling from ${REPO}: 500 no details`,
    );
    expect((await refusal('null', { status: 500 })).message).toBe(
      `the Hub's answer is malformed (while pulling from ${REPO}); is ${HUB} a Hugging Face Hub?`,
    );
  });
});
