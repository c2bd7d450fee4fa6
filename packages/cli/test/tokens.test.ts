// HF_TOKEN never shows: push, pull, training from a Hub model, generation with a Hub adapter and a run of failures
// (one Hub that echoes the token in its refusals, like a misbehaving proxy) all run with a recognisable fake
// token; then stdout, stderr, every file written (outputs, checkpoints, caches, model cards) and every file the
// Hub received are searched for it.
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeHub } from '../../format/test/hub/fake-hub.js';
import { fixture, runCli, type CliResult } from './run-cli.js';

const TOKEN = 'hf_LEAKCANARYtoken7f3a9c1e5b2d8f4a6c0e';
const EXAMPLES = fileURLToPath(new URL('../../../examples/data/', import.meta.url));
const hub = new FakeHub([TOKEN]);
/** Refuses every token, and puts it in the refusal's body. */
const hostile = new FakeHub([]);
let root: string;

beforeAll(async () => {
  await Promise.all([hub.start(), hostile.start()]);
  root = await mkdtemp(join(tmpdir(), 'mor-tokens-'));
});
afterAll(async () => {
  await Promise.all([hub.stop(), hostile.stop()]);
  await rm(root, { recursive: true, force: true });
  expect(hub.unhandled).toEqual([]);
});

/** The forms a leak could take: the token itself, its secret part, and its base64 (basic auth, encoded logs). */
const forms = [TOKEN, TOKEN.slice(3), Buffer.from(TOKEN).toString('base64'), encodeURIComponent(TOKEN)];
const leaks = (text: string | Buffer) => forms.filter((f) => text.includes(f));

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('HF_TOKEN', () => {
  it('appears in no output, error, log, model card, checkpoint or cache file', async () => {
    // The hostile Hub really does echo the token: without redaction the failures below would show it.
    const echo = await fetch(`${hostile.url}/api/whoami-v2`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(await echo.text()).toContain(TOKEN);

    const env = { HF_TOKEN: TOKEN, HF_ENDPOINT: hub.url, MOR_CACHE: join(root, 'cache') };
    const F = fixture('tiny-llama');
    const kv = fixture('tiny-llama-kv');
    // A private model repository (what `--model OWNER/NAME` pulls for training) and the adapter to push.
    const read = async (p: string) => new Uint8Array(await readFile(join(F, p)));
    hub.plant(
      'tester/private-llama',
      Object.fromEntries(
        await Promise.all(
          ['config.json', 'tokenizer.json', 'tokenizer_config.json'].map(async (p) => [p, await read(p)]),
        ),
      ),
      { private: true },
    );
    hub.plant('tester/private-llama', { 'onnx/model.onnx': await read('onnx/model.onnx') }, { lfs: true });
    const adapter = join(root, 'adapter');
    await cp(join(kv, 'mor-adapter'), adapter, { recursive: true });
    const out = (name: string) => join(root, name);
    await mkdir(out('pull-on-hostile'));

    const runs: Array<[string, CliResult, 'ok' | 'fails']> = [];
    const mor = async (
      what: string,
      args: string[],
      outcome: 'ok' | 'fails',
      extra: Record<string, string> = {},
    ) => runs.push([what, await runCli(args, { ...env, ...extra }), outcome]);
    await mor('push', ['push', '--adapter', adapter, '--repo', 'tester/adapter', '--private'], 'ok');
    await mor('pull', ['pull', '--repo', 'tester/adapter', '--out', out('pulled')], 'ok');
    await mor(
      'train from a private Hub model, with checkpoints',
      [
        'train',
        '--model',
        'tester/private-llama',
        '--data',
        join(EXAMPLES, 'multitask.jsonl'),
        '--eval-data',
        join(EXAMPLES, 'multitask-eval.jsonl'),
        '--targets',
        'gate_proj',
        '--max-steps',
        '3',
        '--save-every',
        '1',
        '--out',
        out('trained'),
      ],
      'ok',
    );
    await mor(
      'generate with a private Hub adapter',
      [
        'generate',
        '--model',
        kv,
        '--adapter',
        'tester/adapter',
        '--prompt',
        'The dog',
        '--max-new-tokens',
        '3',
      ],
      'ok',
    );
    await mor(
      'push of the trained adapter',
      ['push', '--adapter', out('trained'), '--repo', 'tester/trained'],
      'ok',
    );
    // Failures: refusals that echo the token (from the environment and from --token), missing repositories,
    // revisions and models, with and without MOR_DEBUG's stack traces.
    const onHostile = { HF_ENDPOINT: hostile.url };
    await mor(
      'pull, token refused',
      ['pull', '--repo', 'tester/x', '--out', out('pull-on-hostile')],
      'fails',
      onHostile,
    );
    await mor(
      'pull, token refused, MOR_DEBUG',
      ['pull', '--repo', 'tester/x', '--out', out('pull-on-hostile')],
      'fails',
      { ...onHostile, MOR_DEBUG: '1' },
    );
    await mor(
      'push, token refused',
      ['push', '--adapter', adapter, '--repo', 'tester/x'],
      'fails',
      onHostile,
    );
    await mor(
      'push, --token refused, MOR_DEBUG',
      ['push', '--adapter', adapter, '--repo', 'tester/x', '--hub-url', hostile.url, '--token', TOKEN],
      'fails',
      { HF_TOKEN: '', MOR_DEBUG: '1' },
    );
    await mor(
      'train, model pull refused',
      ['train', '--model', 'tester/x', '--data', join(F, 'golden_data.jsonl'), '--out', out('t2')],
      'fails',
      onHostile,
    );
    await mor('pull, no such repository', ['pull', '--repo', 'tester/absent', '--out', out('p2')], 'fails');
    await mor(
      'pull, no such revision',
      ['pull', '--repo', 'tester/adapter', '--revision', 'nope', '--out', out('p3')],
      'fails',
      { MOR_DEBUG: '1' },
    );
    await mor(
      'generate, no such model',
      ['generate', '--model', 'tester/absent-model', '--prompt', 'x'],
      'fails',
    );

    for (const [what, r, outcome] of runs) {
      expect(r.code === 0 ? 'ok' : 'fails', `${what}: ${r.stderr}`).toBe(outcome);
      expect(leaks(r.stdout), `${what}: stdout`).toEqual([]);
      expect(leaks(r.stderr), `${what}: stderr`).toEqual([]);
    }
    // The refusals did carry the echoed token, and it was cut out of them.
    const refused = runs.filter(([what]) => what.includes('refused'));
    expect(refused).toHaveLength(5);
    for (const [what, r] of refused) expect(r.stderr, what).toContain('(Bearer ***)');
    // The runs wrote what they should have (so the search below looks at real files) …
    const written = await filesUnder(root);
    const names = written.map((f) => relative(root, f));
    for (const f of [
      'pulled/README.md',
      'trained/checkpoint-1/trainer_state.json',
      'trained/training_summary.json',
      'cache/models/tester--private-llama/main/onnx/model.onnx',
      'cache/tester--adapter/main/adapter_model.safetensors',
    ])
      expect(names).toContain(f);
    // … and none of them holds the token.
    for (const f of written) expect(leaks(await readFile(f)), relative(root, f)).toEqual([]);
    // Nor does anything the Hub received (model cards, configs, summaries).
    for (const [name, repo] of [...hub.repos, ...hostile.repos])
      for (const snapshot of repo.commits.values())
        for (const [path, file] of snapshot)
          expect(leaks(Buffer.from(file.bytes)), `${name}/${path}`).toEqual([]);
    expect(hub.files('tester/trained').has('README.md')).toBe(true);
  });
});
