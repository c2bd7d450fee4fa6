import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HubError } from '../../src/hub/index.js';
import { pullAdapter, pushAdapter } from '../../src/node/hub/index.js';
import { adapterParameterCount } from '../../src/index.js';
import { freshRepo, MOR_FIXTURE, scratchDir, TOKEN, useFakeHub, WRONG_TOKEN } from './setup.js';

const hub = useFakeHub();

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const fixtureFile = (name: string) => readFile(join(MOR_FIXTURE, name));

/** A repository holding the fixture adapter, pushed through the real client. */
async function pushedRepo(options: { private?: boolean } = {}): Promise<string> {
  const repo = freshRepo();
  await pushAdapter({ dir: MOR_FIXTURE, repo, hubUrl: hub.url, accessToken: TOKEN, ...options });
  return repo;
}

describe('pullAdapter', () => {
  it('round-trips a pushed adapter byte for byte, with its model card', async () => {
    const repo = await pushedRepo();
    const out = join(await scratchDir(), 'pulled');
    const result = await pullAdapter({ repo, out, hubUrl: hub.url });
    expect(result.files.map((f) => f.path)).toEqual([
      'adapter_config.json',
      'adapter_model.safetensors',
      'README.md',
    ]);
    expect(adapterParameterCount(result.adapter)).toBe(9312);
    for (const name of ['adapter_config.json', 'adapter_model.safetensors']) {
      expect(await readFile(join(out, name))).toEqual(await fixtureFile(name));
    }
    expect(await readFile(join(out, 'README.md'), 'utf8')).toContain('| trainable parameters | 9,312 |');
    expect((await readdir(join(out, '..'))).sort()).toEqual(['pulled']); // no staging directory left behind
  });

  it('pulls a given revision (a commit id) and replaces an older pull in place', async () => {
    const repo = await pushedRepo();
    const first = hub.repos.get(repo)!.branches.get('main')!;
    hub.plant(repo, { 'README.md': Buffer.from('# changed\n') });
    const out = await scratchDir();
    await writeFile(join(out, 'README.md'), 'stale');
    await pullAdapter({ repo, out, hubUrl: hub.url, revision: first });
    expect(await readFile(join(out, 'README.md'), 'utf8')).toContain('9,312');
    await pullAdapter({ repo, out, hubUrl: hub.url });
    expect(await readFile(join(out, 'README.md'), 'utf8')).toBe('# changed\n');
    expect((await readdir(out)).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('reads a private repository with the token, and explains the refusal without one', async () => {
    const repo = await pushedRepo({ private: true });
    const out = join(await scratchDir(), 'private');
    await pullAdapter({ repo, out, hubUrl: hub.url, accessToken: TOKEN });
    expect(await readFile(join(out, 'adapter_model.safetensors'))).toEqual(
      await fixtureFile('adapter_model.safetensors'),
    );
    const error = await rejection(pullAdapter({ repo, out: join(out, 'again'), hubUrl: hub.url }));
    expect(error.message).toBe(`repository ${repo} not found on ${hub.url} (if it is private, pass a token)`);
  });

  it('says which of repository and revision is missing', async () => {
    const out = join(await scratchDir(), 'none');
    const missing = await rejection(
      pullAdapter({ repo: 'tester/does-not-exist', out, hubUrl: hub.url, accessToken: TOKEN }),
    );
    expect(missing).toBeInstanceOf(HubError);
    expect((missing as HubError).reason).toBe('not-found');
    expect(missing.message).toBe(`repository tester/does-not-exist not found on ${hub.url}`);
    const repo = await pushedRepo();
    const noRev = await rejection(pullAdapter({ repo, out, hubUrl: hub.url, revision: 'v9' }));
    expect(noRev.message).toBe(`${repo} has no revision 'v9' on ${hub.url}`);
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });

  it('refuses a repository without adapter files', async () => {
    const repo = freshRepo('not-adapter');
    hub.plant(repo, { 'config.json': Buffer.from('{}') });
    const error = await rejection(pullAdapter({ repo, out: join(await scratchDir(), 'x'), hubUrl: hub.url }));
    expect(error.message).toBe(`${repo}@main is not an adapter repository: it has no adapter_config.json`);
  });

  it('leaves nothing behind when the remote safetensors is corrupt', async () => {
    const repo = freshRepo('corrupt');
    const weights = await fixtureFile('adapter_model.safetensors');
    hub.plant(repo, { 'adapter_config.json': await fixtureFile('adapter_config.json') });
    hub.plant(repo, { 'adapter_model.safetensors': weights.subarray(0, weights.length - 64) }, { lfs: true });
    const parent = await scratchDir();
    const error = await rejection(pullAdapter({ repo, out: join(parent, 'adapter'), hubUrl: hub.url }));
    expect(error.message).toMatch(new RegExp(`^${hub.url}/${repo}/resolve/main/adapter_model.safetensors: `));
    expect(await readdir(parent)).toEqual([]);

    // An existing adapter directory keeps its old files untouched.
    const existing = join(parent, 'existing');
    await mkdir(existing);
    await cp(MOR_FIXTURE, existing, { recursive: true });
    await rejection(pullAdapter({ repo, out: existing, hubUrl: hub.url }));
    expect(await readFile(join(existing, 'adapter_model.safetensors'))).toEqual(weights);
    expect((await readdir(existing)).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  });

  it('refuses a download that does not match the hash the Hub lists', async () => {
    const repo = await pushedRepo();
    // A transfer that flips one byte inside a tensor: the safetensors still parses, only the hash can tell.
    const flipping: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const url = String(input instanceof Request ? input.url : input);
      if (!url.endsWith('/adapter_model.safetensors') || response.status !== 200) return response;
      const bytes = new Uint8Array(await response.arrayBuffer());
      bytes[bytes.length - 3]! ^= 0x01;
      return new Response(bytes, { status: 200, headers: response.headers });
    };
    const parent = await scratchDir();
    const error = await rejection(
      pullAdapter({ repo, out: join(parent, 'a'), hubUrl: hub.url, fetch: flipping }),
    );
    expect(error.message).toMatch(
      new RegExp(
        `^${repo}@main: adapter_model.safetensors: the download does not match the repository \\(sha256 `,
      ),
    );
    expect(await readdir(parent)).toEqual([]);
  });

  it('refuses a wrong token without printing it', async () => {
    const repo = await pushedRepo();
    const error = await rejection(
      pullAdapter({ repo, out: join(await scratchDir(), 'x'), hubUrl: hub.url, accessToken: WRONG_TOKEN }),
    );
    expect(error.message).toBe(
      `the Hub refused the token for ${repo}: 401 Invalid credentials in Authorization header (Bearer ***)`,
    );
  });

  it('refuses to pull into a file', async () => {
    const file = join(await scratchDir(), 'file');
    await writeFile(file, 'x');
    const before = hub.requests.length;
    const error = await rejection(pullAdapter({ repo: 'tester/any', out: file, hubUrl: hub.url }));
    expect(error.message).toBe(`cannot pull into ${file}: it exists and is not a directory`);
    expect(hub.requests.length).toBe(before);
  });
});
