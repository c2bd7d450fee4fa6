import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HubError } from '../../src/hub/hub-error.js';
import { PULL_MANIFEST_FILE, pullRepoFiles } from '../../src/node/hub/pull-repo-files.js';
import { freshRepo, scratchDir, TOKEN, useFakeHub } from './setup.js';

const hub = useFakeHub();
const bytes = (text: string) => new TextEncoder().encode(text);
const weights = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

/** A model-like repository: small files at the top, large LFS files in a sub-folder, files nobody wants. */
function plantModel(repo: string) {
  hub.plant(repo, { 'config.json': bytes('{"model_type":"llama"}'), 'README.md': bytes('# model') });
  hub.plant(
    repo,
    {
      'onnx/model.onnx': weights(5000, 1),
      'onnx/model.onnx_data': weights(70_000, 2),
      'onnx/model_q4.onnx': weights(900, 3),
    },
    { lfs: true },
  );
}
const pickModel = (paths: string[]) =>
  paths.filter((p) => p === 'config.json' || p.startsWith('onnx/model.onnx'));
/** Files fetched from the repository's resolve URLs since request number `since` (a download may take several). */
const fetched = (repo: string, since: number) =>
  [
    ...new Set(
      hub.requests
        .slice(since)
        .filter((r) => r.path.startsWith(`/${repo}/resolve/`))
        .map((r) => r.path.replace(/^\/[^/]+\/[^/]+\/resolve\/[^/]+\//, '')),
    ),
  ].sort();

describe('pullRepoFiles', () => {
  it('streams the selected files (sub-folders kept), checked against the listing, and writes a manifest', async () => {
    const repo = freshRepo('model');
    plantModel(repo);
    const out = await scratchDir();
    const r = await pullRepoFiles({ repo, out, select: pickModel, hubUrl: hub.url, accessToken: TOKEN });
    expect(r.downloaded.sort()).toEqual(['config.json', 'onnx/model.onnx', 'onnx/model.onnx_data']);
    expect(r.kept).toEqual([]);
    expect(new Uint8Array(await readFile(join(out, 'onnx/model.onnx_data')))).toEqual(weights(70_000, 2));
    expect(await readFile(join(out, 'config.json'), 'utf8')).toBe('{"model_type":"llama"}');
    expect((await readdir(join(out, 'onnx'))).sort()).toEqual(['model.onnx', 'model.onnx_data']); // no leftovers
    const manifest = JSON.parse(await readFile(join(out, PULL_MANIFEST_FILE), 'utf8'));
    expect(Object.keys(manifest.files).sort()).toEqual([
      'config.json',
      'onnx/model.onnx',
      'onnx/model.onnx_data',
    ]);
  });

  it('a second pull downloads only what changed on the Hub (or on disk)', async () => {
    const repo = freshRepo('model');
    plantModel(repo);
    const out = await scratchDir();
    const pull = () => pullRepoFiles({ repo, out, select: pickModel, hubUrl: hub.url });
    await pull();
    let before = hub.requests.length;
    const again = await pull();
    expect(again.downloaded).toEqual([]);
    expect(fetched(repo, before)).toEqual([]);

    hub.plant(repo, { 'onnx/model.onnx_data': weights(70_000, 9) }, { lfs: true });
    await writeFile(join(out, 'config.json'), '{}'); // a local file of the wrong size is fetched again too
    before = hub.requests.length;
    const changed = await pull();
    expect(changed.downloaded.sort()).toEqual(['config.json', 'onnx/model.onnx_data']);
    expect(changed.kept).toEqual(['onnx/model.onnx']);
    expect(fetched(repo, before)).toEqual(['config.json', 'onnx/model.onnx_data']);
    expect(new Uint8Array(await readFile(join(out, 'onnx/model.onnx_data')))).toEqual(weights(70_000, 9));
  });

  it('refuses a download that does not match its listed hash and keeps the old file', async () => {
    const repo = freshRepo('model');
    plantModel(repo);
    const out = await scratchDir();
    await pullRepoFiles({ repo, out, select: pickModel, hubUrl: hub.url });
    // Corrupt what the Hub serves for the data file while its listing keeps the old sha256.
    const stored = hub.files(repo).get('onnx/model.onnx_data')!;
    const good = stored.bytes;
    stored.bytes = weights(70_000, 5);
    hub.plant(repo, { 'onnx/model.onnx': weights(5000, 7) }, { lfs: true }); // forces a new commit
    hub.files(repo).set('onnx/model.onnx_data', { ...stored, lfsOid: 'f'.repeat(64) });
    const failure = await pullRepoFiles({ repo, out, select: pickModel, hubUrl: hub.url }).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(HubError);
    expect((failure as HubError).message).toMatch(
      /onnx\/model\.onnx_data: the download does not match the repository \(sha256 [0-9a-f]{64}, listed f{64}\)/,
    );
    expect(new Uint8Array(await readFile(join(out, 'onnx/model.onnx_data')))).toEqual(good);
    // model.onnx changed too, but nothing is replaced before every download has passed: the previous pull stands.
    expect(new Uint8Array(await readFile(join(out, 'onnx/model.onnx')))).toEqual(weights(5000, 1));
    expect(await readdir(out)).toContain(PULL_MANIFEST_FILE);
    expect((await readdir(join(out, 'onnx'))).sort()).toEqual(['model.onnx', 'model.onnx_data']);
  });

  it('lets select refuse the repository before anything is downloaded', async () => {
    const repo = freshRepo('model');
    hub.plant(repo, { 'config.json': bytes('{}') });
    const out = await scratchDir();
    const select = (paths: string[]) => {
      if (!paths.includes('onnx/model.onnx')) throw new Error(`${repo} has no onnx/model.onnx`);
      return paths;
    };
    const before = hub.requests.length;
    await expect(pullRepoFiles({ repo, out, select, hubUrl: hub.url })).rejects.toThrow(
      /has no onnx\/model\.onnx/,
    );
    expect(fetched(repo, before)).toEqual([]);
    expect(await readdir(out)).toEqual([]);
  });
});
