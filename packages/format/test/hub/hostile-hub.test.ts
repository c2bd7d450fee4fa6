// A Hub that lies: listings with paths that would leave the pull's directory, and downloads that do not match
// their listing. Nothing may be written outside the target, and a refused re-pull keeps the previous one.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HubError } from '../../src/hub/index.js';
import { unsafeRepoPath } from '../../src/hub/repo-path.js';
import { pullAdapter, pullRepoFiles, PULL_MANIFEST_FILE } from '../../src/node/hub/index.js';
import { freshRepo, MOR_FIXTURE, scratchDir, TOKEN, useFakeHub } from './setup.js';

const hub = useFakeHub();
const fixtureFile = (name: string) => readFile(join(MOR_FIXTURE, name));
const weights = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

/** Hostile listing paths, each with the words the refusal must use. */
const HOSTILE: Array<[string, string]> = [
  ['../evil.json', 'has a ".." segment'],
  ['onnx/../../evil.json', 'has a ".." segment'],
  ['..', 'has a ".." segment'],
  ['./adapter_config.json', 'has a "." segment'],
  ['/tmp/evil.json', 'is absolute'],
  ['C:/evil.json', 'is absolute'],
  ['..\\evil.json', 'holds a backslash'],
  ['onnx\\model.onnx', 'holds a backslash'],
  ['onnx//model.onnx', 'has an empty segment'],
  ['onnx/', 'has an empty segment'],
  ['evil\u0000.json', 'holds a control character'],
  ['line\nbreak.json', 'holds a control character'],
];

/** `ROOT/parent/target`: an escape of one or two levels would land in `parent` or `ROOT`. */
async function nested(): Promise<{ root: string; parent: string; out: string }> {
  const root = await scratchDir('mor-hostile-');
  const parent = join(root, 'parent');
  await mkdir(parent);
  return { root, parent, out: join(parent, 'target') };
}

async function rejection(promise: Promise<unknown>): Promise<HubError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HubError);
  return error as HubError;
}

/** A fetch that alters what one file's download delivers (the listing keeps the true size and hash). */
function altering(file: string, change: (bytes: Uint8Array) => Uint8Array): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = String(input instanceof Request ? input.url : input);
    if (!url.endsWith(`/${file}`) || response.status !== 200) return response;
    const bytes = change(new Uint8Array(await response.arrayBuffer()));
    const headers = new Headers(response.headers);
    headers.set('Content-Length', String(bytes.length));
    return new Response(bytes, { status: 200, headers });
  };
}
const MISMATCH = 'the download does not match the repository';
const FLIPPED = /\(sha256 [0-9a-f]{64}, listed [0-9a-f]{64}\)/;
const SHORT = /\(\d+ bytes received, (\d+) expected\)/;
const LONG = /\(more than the \d+ bytes listed\)/;
/** How a transfer is altered, and what the refusal says: streamed to disk (model pull) and in memory (adapter). */
const FAULTS: Array<[string, (b: Uint8Array) => Uint8Array, RegExp, RegExp]> = [
  ['one flipped byte', (b) => b.map((v, i) => (i === b.length - 3 ? v ^ 1 : v)), FLIPPED, FLIPPED],
  ['a truncated body', (b) => b.subarray(0, b.length - 10), SHORT, SHORT],
  // Reading stops at the first byte past the listed size (a lying server cannot fill the disk or the memory).
  ['extra bytes', (b) => Uint8Array.from([...b, 1, 2, 3]), LONG, LONG],
];

describe('a listing with paths that could leave the target directory', () => {
  it('every hostile path is refused by the path check, and ordinary ones pass', () => {
    for (const [path, why] of HOSTILE) expect(unsafeRepoPath(path), JSON.stringify(path)).toContain(why);
    for (const path of ['config.json', 'onnx/model.onnx_data_1', '.gitattributes', 'a b/ü.json', '..a/b..'])
      expect(unsafeRepoPath(path), path).toBeNull();
  });

  it.each(HOSTILE)(
    'pullRepoFiles and pullAdapter refuse %j naming it, and write nothing anywhere',
    async (path, why) => {
      const repo = freshRepo('hostile');
      hub.plant(repo, {
        'adapter_config.json': await fixtureFile('adapter_config.json'),
        'adapter_model.safetensors': await fixtureFile('adapter_model.safetensors'),
        [path]: new TextEncoder().encode('{"pwned":true}'),
      });
      const { root, parent, out } = await nested();
      const expected = `${repo}@main: the repository lists the file path ${JSON.stringify(path)}, which ${why}`;
      const everything = (paths: string[]) => paths; // a select that would take the hostile file too
      const model = await rejection(pullRepoFiles({ repo, out, select: everything, hubUrl: hub.url }));
      expect(model.message).toContain(expected);
      expect(model.reason).toBe('hub');
      const adapter = await rejection(pullAdapter({ repo, out, hubUrl: hub.url }));
      expect(adapter.message).toContain(expected);
      expect(await readdir(root)).toEqual(['parent']);
      expect(await readdir(parent)).toEqual([]);
      const downloads = hub.requests.filter((r) => r.path.startsWith(`/${repo}/resolve/`));
      expect(downloads).toEqual([]); // refused on the listing, before any download
    },
  );
});

/** A fetch whose full download of `file` fails with a server error that quotes the request's token. */
function echoingFailure(file: string): typeof fetch {
  return async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const headers = new Headers(init?.headers);
    if (!url.endsWith(`/${file}`) || headers.has('Range')) return fetch(input, init);
    return new Response(JSON.stringify({ error: `upstream rejected ${headers.get('Authorization')}` }), {
      status: 502,
      headers: { 'Content-Type': 'application/json' },
    });
  };
}

describe('a download whose body fails with the token in the error', () => {
  it('is a HubError naming the repository, with the token cut out, for both pulls', async () => {
    const repo = freshRepo('echo');
    hub.plant(repo, { 'adapter_config.json': await fixtureFile('adapter_config.json') });
    hub.plant(
      repo,
      { 'adapter_model.safetensors': await fixtureFile('adapter_model.safetensors') },
      { lfs: true },
    );
    const { root, out } = await nested();
    const common = {
      repo,
      out,
      hubUrl: hub.url,
      accessToken: TOKEN,
      fetch: echoingFailure('adapter_model.safetensors'),
    };
    for (const pull of [pullAdapter(common), pullRepoFiles({ ...common, select: (p) => p })]) {
      const error = await rejection(pull);
      expect(error.message).toContain(repo);
      expect(error.message).toContain('upstream rejected Bearer ***');
      expect(error.message).not.toContain(TOKEN);
      expect(JSON.stringify(error) + String(error.cause ?? '')).not.toContain(TOKEN);
    }
    expect(await readdir(root)).toEqual(['parent']);
  });
});

describe('a download that does not match its listing', () => {
  it.each(FAULTS)(
    'pullRepoFiles refuses %s, and the previous pull stays complete and byte-identical',
    async (_, change, message) => {
      const repo = freshRepo('model');
      hub.plant(repo, { 'config.json': new TextEncoder().encode('{"model_type":"llama"}') });
      hub.plant(
        repo,
        { 'onnx/model.onnx': weights(3000, 1), 'onnx/model.onnx_data': weights(40_000, 2) },
        { lfs: true },
      );
      const out = await scratchDir();
      const pull = (f?: typeof fetch) =>
        pullRepoFiles({ repo, out, select: (p) => p, hubUrl: hub.url, ...(f ? { fetch: f } : {}) });
      await pull();
      const files = [
        '.gitattributes',
        'config.json',
        PULL_MANIFEST_FILE,
        'onnx/model.onnx',
        'onnx/model.onnx_data',
      ];
      const before = await Promise.all(files.map((f) => readFile(join(out, f))));
      // A new commit changes both files; the transfer of the second one is altered.
      hub.plant(
        repo,
        { 'onnx/model.onnx': weights(3000, 7), 'onnx/model.onnx_data': weights(40_000, 8) },
        { lfs: true },
      );
      const error = await rejection(pull(altering('onnx/model.onnx_data', change)));
      expect(error.message).toMatch(
        new RegExp(`^${repo}@main: onnx/model\\.onnx_data: ${MISMATCH} ${message.source}`),
      );
      expect(await Promise.all(files.map((f) => readFile(join(out, f))))).toEqual(before);
      expect((await readdir(out)).sort()).toEqual([
        '.gitattributes',
        PULL_MANIFEST_FILE,
        'config.json',
        'onnx',
      ]);
      expect((await readdir(join(out, 'onnx'))).sort()).toEqual(['model.onnx', 'model.onnx_data']);
      // An honest transfer then brings the new commit.
      expect((await pull()).downloaded.sort()).toEqual(['onnx/model.onnx', 'onnx/model.onnx_data']);
      expect(new Uint8Array(await readFile(join(out, 'onnx/model.onnx_data')))).toEqual(weights(40_000, 8));
    },
  );

  it.each(FAULTS)(
    'pullAdapter refuses %s into an earlier pull, which stays byte-identical',
    async (_, change, __, message) => {
      const repo = freshRepo('adapter');
      hub.plant(repo, { 'adapter_config.json': await fixtureFile('adapter_config.json') });
      hub.plant(
        repo,
        { 'adapter_model.safetensors': await fixtureFile('adapter_model.safetensors') },
        { lfs: true },
      );
      const out = join(await scratchDir(), 'adapter');
      await pullAdapter({ repo, out, hubUrl: hub.url });
      const names = (await readdir(out)).sort();
      const before = await Promise.all(names.map((f) => readFile(join(out, f))));
      hub.plant(repo, { 'README.md': new TextEncoder().encode('# new card\n') });
      const error = await rejection(
        pullAdapter({ repo, out, hubUrl: hub.url, fetch: altering('adapter_model.safetensors', change) }),
      );
      expect(error.message).toMatch(
        new RegExp(`^${repo}@main: adapter_model\\.safetensors: ${MISMATCH} ${message.source}`),
      );
      expect((await readdir(out)).sort()).toEqual(names);
      expect(await Promise.all(names.map((f) => readFile(join(out, f))))).toEqual(before);
    },
  );
});
