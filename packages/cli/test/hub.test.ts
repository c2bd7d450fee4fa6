import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAdapter } from '@mor/format/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The fake Hub lives with the library's Hub tests; the CLI tests drive the same protocol through the binary.
import { FakeHub } from '../../format/test/hub/fake-hub.js';
import { fixture, ONE_SGD_STEP, runCli, type CliResult } from './run-cli.js';

const TOKEN = 'hf_cliWriteToken0123456789abcdefghijkl';
const WRONG = 'hf_cliWrongToken9876543210zyxwvutsrqp';
const ADAPTER = fixture('tiny-llama/mor-adapter');
const hub = new FakeHub([TOKEN]);
/** No token or endpoint from the environment running the tests leaks into a case. */
const cleanEnv = { HF_TOKEN: '', HF_ENDPOINT: '' };
let n = 0;
const freshRepo = () => `tester/cli-adapter-${++n}`;

beforeAll(async () => {
  await hub.start();
});
afterAll(async () => {
  await hub.stop();
  expect(hub.unhandled).toEqual([]);
});

function expectOneLineError(r: CliResult, message: string | RegExp): void {
  expect(r.code).not.toBe(0);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines.at(-1)).toMatch(message);
  expect(lines.filter((l) => l.startsWith('error: '))).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const push = (
  repo: string,
  extra: string[] = [],
  env: Record<string, string> = { ...cleanEnv, HF_TOKEN: TOKEN },
) => runCli(['push', '--adapter', ADAPTER, '--repo', repo, '--hub-url', hub.url, ...extra], env);

describe('mor push / mor pull', () => {
  it('round-trips the fixture adapter byte for byte through the Hub, with a model card', async () => {
    const repo = freshRepo();
    const pushed = await push(repo, ['--json']);
    expect(pushed.stderr).not.toContain('error');
    expect(pushed.code).toBe(0);
    const p = JSON.parse(pushed.stdout);
    expect(p).toMatchObject({
      repo,
      url: `${hub.url}/${repo}`,
      revision: 'main',
      created_repo: true,
      trainable_parameters: 9312,
    });
    expect(p.files).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'README.md']);

    const out = join(await mkdtemp(join(tmpdir(), 'mor-cli-pull-')), 'adapter');
    const pulled = await runCli(
      ['pull', '--repo', repo, '--out', out, '--hub-url', hub.url, '--json'],
      cleanEnv,
    );
    expect(pulled.code).toBe(0);
    const q = JSON.parse(pulled.stdout);
    expect(q).toMatchObject({
      repo,
      revision: 'main',
      out,
      adapter_type: 'MOR',
      adapted_modules: 6,
      trainable_parameters: 9312,
    });
    for (const name of ['adapter_config.json', 'adapter_model.safetensors']) {
      expect(await readFile(join(out, name))).toEqual(await readFile(join(ADAPTER, name)));
    }
    const card = await readFile(join(out, 'README.md'), 'utf8');
    for (const fact of [
      '| trainable parameters | 9,312 |',
      '| rank r | 4 |',
      '| experts | 4 |',
      '`gate_proj`, `up_proj`, `down_proj`',
    ]) {
      expect(card).toContain(fact);
    }
    // And the pulled directory is an adapter the rest of the CLI reads.
    const inspected = await runCli(['inspect', out, '--json']);
    expect(JSON.parse(inspected.stdout).trainable_parameters).toBe(9312);
  });

  it('prints human summaries, takes --token and --private, and pulls a --revision', async () => {
    const repo = freshRepo();
    const pushed = await push(repo, ['--token', TOKEN, '--private', '--message', 'first'], cleanEnv);
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toContain(`→ ${repo} (new repository)`);
    expect(pushed.stdout).toContain('parameters  9,312');
    expect(hub.repos.get(repo)!.private).toBe(true);
    const oid = hub.repos.get(repo)!.branches.get('main')!;
    const out = await mkdtemp(join(tmpdir(), 'mor-cli-pull-'));
    const pulled = await runCli(
      ['pull', '--repo', repo, '--out', out, '--hub-url', hub.url, '--revision', oid],
      { ...cleanEnv, HF_TOKEN: TOKEN },
    );
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toContain(`pulled ${repo}@${oid} → ${out}`);
    expect(pulled.stdout).toContain('MoR, 6 modules, 9,312 parameters');
  });

  it('refuses a wrong token in one line, without ever printing the token', async () => {
    for (const [args, env] of [
      [[], { ...cleanEnv, HF_TOKEN: WRONG }],
      [['--token', WRONG], cleanEnv],
    ] as const) {
      const repo = freshRepo();
      const r = await push(repo, [...args], env);
      expectOneLineError(r, new RegExp(`^error: the Hub refused the token for ${repo}: 401 `));
      expect(r.stdout + r.stderr).not.toContain(WRONG);
    }
    const repo = freshRepo();
    expect((await push(repo)).code).toBe(0);
    const out = join(await mkdtemp(join(tmpdir(), 'mor-cli-pull-')), 'x');
    const r = await runCli(['pull', '--repo', repo, '--out', out, '--hub-url', hub.url, '--token', WRONG]);
    expectOneLineError(
      r,
      `error: the Hub refused the token for ${repo}: 401 Invalid credentials in Authorization header (Bearer ***)`,
    );
    expect(r.stdout + r.stderr).not.toContain(WRONG);
  });

  it('asks for a token when pushing without one', async () => {
    const before = hub.requests.length;
    expectOneLineError(
      await push(freshRepo(), [], cleanEnv),
      /^error: no Hub token: pass --token or set HF_TOKEN$/,
    );
    expect(hub.requests.length).toBe(before);
  });

  it('reports a repository that does not exist', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'mor-cli-pull-')), 'x');
    const r = await runCli(['pull', '--repo', 'tester/no-such-adapter', '--out', out, '--hub-url', hub.url], {
      ...cleanEnv,
      HF_TOKEN: TOKEN,
    });
    expectOneLineError(r, `error: repository tester/no-such-adapter not found on ${hub.url}`);
  });

  it('writes nothing when the remote safetensors is corrupt', async () => {
    const repo = freshRepo();
    const weights = await readFile(join(ADAPTER, 'adapter_model.safetensors'));
    hub.plant(repo, { 'adapter_config.json': await readFile(join(ADAPTER, 'adapter_config.json')) });
    const header = Buffer.from(weights);
    header.write('#', 8, 'latin1'); // the header is no longer JSON
    hub.plant(repo, { 'adapter_model.safetensors': header }, { lfs: true });
    const parent = await mkdtemp(join(tmpdir(), 'mor-cli-pull-'));
    const r = await runCli(
      ['pull', '--repo', repo, '--out', join(parent, 'adapter'), '--hub-url', hub.url],
      cleanEnv,
    );
    expectOneLineError(
      r,
      new RegExp(`^error: ${hub.url}/${repo}/resolve/main/adapter_model.safetensors: .*JSON`),
    );
    expect(await readdir(parent)).toEqual([]);
  });

  it('requires --repo (and --out for pull)', async () => {
    const r = await runCli(['pull', '--repo', 'a/b'], cleanEnv);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^error: required option '--out <dir>' not specified/);
  });

  it('takes a Hub id as --adapter: pulls it into the cache and generates the golden tokens', async () => {
    const repo = freshRepo();
    const kv = fixture('tiny-llama-kv');
    const up = await runCli(
      ['push', '--adapter', join(kv, 'mor-adapter'), '--repo', repo, '--hub-url', hub.url],
      { ...cleanEnv, HF_TOKEN: TOKEN },
    );
    expect(up.code).toBe(0);
    const cache = await mkdtemp(join(tmpdir(), 'mor-cli-cache-'));
    const env = { ...cleanEnv, HF_ENDPOINT: hub.url, MOR_CACHE: cache };
    const args = ['generate', '--model', kv, '--adapter', repo, '--prompt', 'The small dog'];
    const r = await runCli([...args, '--max-new-tokens', '12', '--greedy', '--json'], env);
    expect(r.stderr).not.toContain('error');
    const golden = JSON.parse(await readFile(join(kv, 'golden.json'), 'utf8'));
    expect(JSON.parse(r.stdout).token_ids).toEqual(golden.greedy_mor);
    expect(await readdir(join(cache, repo.replace('/', '--'), 'main'))).toContain(
      'adapter_model.safetensors',
    );
    // The Hub unreachable: the earlier pull of that revision still serves.
    const offline = await runCli([...args, '--max-new-tokens', '12', '--greedy', '--json'], {
      ...env,
      HF_ENDPOINT: 'http://127.0.0.1:9',
    });
    expect(JSON.parse(offline.stdout).token_ids).toEqual(golden.greedy_mor);
    const absent = await runCli(
      ['generate', '--model', kv, '--adapter', 'tester/absent', '--prompt', 'a'],
      env,
    );
    expectOneLineError(
      absent,
      /^error: cannot load adapter from "tester\/absent": not a local directory, and pulling it from the Hub failed: .*not found/,
    );
  });

  it('trains from a Hub model id: pulls config, tokenizer and onnx/model.onnx into the cache, once', async () => {
    // The tiny Llama as a transformers.js repository (plus a file training must not download).
    const repo = `tester/tiny-llama-${++n}`;
    const F = fixture('tiny-llama');
    const read = async (p: string) => new Uint8Array(await readFile(join(F, p)));
    hub.plant(repo, {
      'config.json': await read('config.json'),
      'generation_config.json': await read('generation_config.json'),
      'tokenizer.json': await read('tokenizer.json'),
      'tokenizer_config.json': await read('tokenizer_config.json'),
    });
    hub.plant(
      repo,
      { 'onnx/model.onnx': await read('onnx/model.onnx'), 'onnx/model_q4.onnx': new Uint8Array(64) },
      { lfs: true },
    );
    const cache = await mkdtemp(join(tmpdir(), 'mor-cli-cache-'));
    const env = { ...cleanEnv, HF_ENDPOINT: hub.url, MOR_CACHE: cache };
    const train = async (out: string, environment: Record<string, string>) =>
      runCli(
        [
          'train',
          '--model',
          repo,
          '--init',
          join(F, 'mor-adapter'),
          '--data',
          join(F, 'golden_data.jsonl'),
        ].concat(ONE_SGD_STEP, ['--out', out]),
        environment,
      );
    const scratch = await mkdtemp(join(tmpdir(), 'mor-cli-hub-train-'));
    const fetched = (since: number) =>
      hub.requests.slice(since).filter((r) => r.path.startsWith(`/${repo}/resolve/`)).length;
    let before = hub.requests.length;
    const r = await train(join(scratch, 'a'), env);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    expect(fetched(before)).toBeGreaterThan(0);
    const pulled = join(cache, 'models', repo.replace('/', '--'), 'main');
    expect((await readdir(join(pulled, 'onnx'))).sort()).toEqual(['model.onnx']);
    const want = await loadAdapter(join(F, 'mor-adapter-sgd1'));
    const close = async (dir: string) => {
      const got = await loadAdapter(dir);
      if (got.kind !== 'mor' || want.kind !== 'mor') throw new Error('expected MoR adapters');
      for (const [mod, w] of want.layers)
        for (const k of ['A', 'B', 'omegaA', 'omegaB', 'routerWeight'] as const)
          expect(
            Math.max(...Array.from(w[k], (v, i) => Math.abs(v - got.layers.get(mod)![k][i]!))),
          ).toBeLessThan(1e-5);
    };
    await close(join(scratch, 'a'));
    // Again: nothing is downloaded (the listing says every file is unchanged) …
    before = hub.requests.length;
    expect((await train(join(scratch, 'b'), env)).code).toBe(0);
    expect(fetched(before)).toBe(0);
    // … and with the Hub unreachable the pulled copy serves.
    const offline = await train(join(scratch, 'c'), { ...env, HF_ENDPOINT: 'http://127.0.0.1:9' });
    expect(offline.stderr).not.toMatch(/^error/m);
    await close(join(scratch, 'c'));
    // A repository without the fp32 graph is refused by name, before any download.
    const q4only = `tester/q4-only-${++n}`;
    hub.plant(q4only, { 'config.json': await read('config.json') });
    const refused = await runCli(
      ['train', '--model', q4only, '--data', join(F, 'golden_data.jsonl'), '--out', join(scratch, 'd')],
      env,
    );
    expectOneLineError(refused, new RegExp(`^error: ${q4only} has no onnx/model\\.onnx: training needs`));
  });
});
