// A Hub that lies, through the binary: `mor pull` (adapters) and the model pull of `mor init`/`mor train` refuse
// listings with paths that could leave their directory, and a re-pull whose download does not match its listing
// keeps the previous pull, which still serves.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeHub } from '../../format/test/hub/fake-hub.js';
import { fixture, runCli, type CliResult } from './run-cli.js';

const hub = new FakeHub([]);
const F = fixture('tiny-llama');
const cleanEnv = { HF_TOKEN: '', HF_ENDPOINT: '' };
const dirs: string[] = [];
beforeAll(async () => {
  await hub.start();
});
afterAll(async () => {
  await hub.stop();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  expect(hub.unhandled).toEqual([]);
});
async function scratch(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mor-cli-hostile-'));
  dirs.push(d);
  return d;
}
const read = async (p: string) => new Uint8Array(await readFile(join(F, p)));

/** Plants the tiny Llama as a transformers.js repository, plus `extra` files. */
async function plantModel(repo: string, extra: Record<string, Uint8Array> = {}): Promise<void> {
  hub.plant(repo, {
    'config.json': await read('config.json'),
    'tokenizer.json': await read('tokenizer.json'),
    'tokenizer_config.json': await read('tokenizer_config.json'),
    ...extra,
  });
  hub.plant(repo, { 'onnx/model.onnx': await read('onnx/model.onnx') }, { lfs: true });
}

function expectOneLineError(r: CliResult, message: string): void {
  expect(r.code).not.toBe(0);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n').at(-1)).toBe(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** Every file under `dir`: relative path → sha256. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) {
      const path = join(e.parentPath, e.name);
      files.set(
        relative(dir, path),
        createHash('sha256')
          .update(await readFile(path))
          .digest('hex'),
      );
    }
  return files;
}

describe('a hostile Hub', () => {
  it('mor pull refuses a listing with a path that leaves --out, naming it, and writes nothing anywhere', async () => {
    const repo = 'tester/evil-adapter';
    hub.plant(repo, {
      'adapter_config.json': await read('mor-adapter/adapter_config.json'),
      'adapter_model.safetensors': await read('mor-adapter/adapter_model.safetensors'),
      '../../evil.json': new TextEncoder().encode('{}'),
    });
    const root = await scratch();
    await mkdir(join(root, 'parent'));
    const r = await runCli(
      ['pull', '--repo', repo, '--out', join(root, 'parent', 'target'), '--hub-url', hub.url],
      cleanEnv,
    );
    expectOneLineError(
      r,
      `error: ${repo}@main: the repository lists the file path "../../evil.json", which has a ".." segment: refusing to pull from it`,
    );
    expect(await readdir(root)).toEqual(['parent']);
    expect(await readdir(join(root, 'parent'))).toEqual([]);
  });

  it('the model pull of mor init refuses a backslash path, and the cache stays empty', async () => {
    const repo = 'tester/evil-model';
    await plantModel(repo, { 'onnx\\..\\..\\..\\evil.onnx': new Uint8Array(8) });
    const root = await scratch();
    const cache = join(root, 'cache');
    const r = await runCli(['init', '--model', repo, '--out', join(root, 'adapter')], {
      ...cleanEnv,
      HF_ENDPOINT: hub.url,
      MOR_CACHE: cache,
    });
    expectOneLineError(
      r,
      `error: model "${repo}" is not a local directory, and pulling it from the Hub failed: ${repo}@main: the ` +
        'repository lists the file path "onnx\\\\..\\\\..\\\\..\\\\evil.onnx", which holds a backslash (a folder ' +
        'separator on Windows): refusing to pull from it',
    );
    expect(await readdir(root)).toEqual([]); // no cache, no adapter
  });

  it('a revision of dots (owner/name@..) is refused before it can name a folder outside the model cache', async () => {
    const root = await scratch();
    const env = { ...cleanEnv, HF_ENDPOINT: hub.url, MOR_CACHE: join(root, 'cache') };
    const r = await runCli(['init', '--model', 'tester/model@..', '--out', join(root, 'a')], env);
    expectOneLineError(r, 'error: model "tester/model@..": ".." is not a revision name');
    expect(await readdir(root)).toEqual([]);
  });

  it('a re-pull whose download does not match its listing is refused and keeps the previous pull, which serves offline', async () => {
    const repo = 'tester/changing-model';
    await plantModel(repo);
    const root = await scratch();
    const env = { ...cleanEnv, HF_ENDPOINT: hub.url, MOR_CACHE: join(root, 'cache') };
    const init = (out: string) =>
      runCli(['init', '--model', repo, '--out', join(root, out), '--seed', '1'], env);
    expect((await init('a')).code).toBe(0);
    const pulled = join(root, 'cache', 'models', repo.replace('/', '--'), 'main');
    const before = await snapshot(pulled);
    expect([...before.keys()].sort()).toEqual([
      '.mor-pull.json',
      'config.json',
      'onnx/model.onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    // A new commit changes the tokenizer config and the graph; the graph's bytes do not match what is listed.
    const config = JSON.parse(new TextDecoder().decode(await read('tokenizer_config.json')));
    hub.plant(repo, {
      'tokenizer_config.json': new TextEncoder().encode(JSON.stringify({ ...config, x: 1 })),
    });
    const graph = await read('onnx/model.onnx');
    hub.plant(repo, { 'onnx/model.onnx': graph.map((v, i) => (i === 100 ? v ^ 1 : v)) }, { lfs: true });
    const stored = hub.files(repo).get('onnx/model.onnx')!;
    hub.files(repo).set('onnx/model.onnx', { ...stored, lfsOid: 'f'.repeat(64) });
    const since = hub.requests.length;
    const again = await init('b');
    // The graph was downloaded again (the listing changed) and refused, saying so: the user does not silently
    // get the older revision.
    const got = hub.requests.slice(since).map((q) => q.path);
    expect(got).toContain(`/${repo}/resolve/main/onnx/model.onnx`);
    expect(again.code).not.toBe(0);
    expect(again.stderr.trim().split('\n').at(-1)).toMatch(
      new RegExp(
        `^error: model "${repo}" is not a local directory, and pulling it from the Hub failed: ${repo}@main: ` +
          'onnx/model.onnx: the download does not match the repository \\(sha256 [0-9a-f]{64}, listed f{64}\\); try again$',
      ),
    );
    expect(await snapshot(pulled)).toEqual(before); // nothing replaced, no partial files, the manifest kept
    // With the Hub unreachable, the previous complete pull serves (offline use).
    const offline = await runCli(['init', '--model', repo, '--out', join(root, 'c'), '--seed', '1'], {
      ...env,
      HF_ENDPOINT: 'http://127.0.0.1:9',
    });
    expect(offline.stderr).not.toMatch(/^error/m);
    expect(offline.code).toBe(0);
    expect(await readFile(join(root, 'c', 'adapter_model.safetensors'))).toEqual(
      await readFile(join(root, 'a', 'adapter_model.safetensors')),
    );
  });
});
