import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AdapterFormatError } from '../../src/index.js';
import { HubError } from '../../src/hub/index.js';
import { pushAdapter } from '../../src/node/hub/index.js';
import { freshRepo, MOR_FIXTURE, scratchAdapter, TOKEN, useFakeHub, WRONG_TOKEN } from './setup.js';

const hub = useFakeHub();

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('pushAdapter', () => {
  it('creates the repository and uploads config, weights (through LFS) and a model card in one commit', async () => {
    const repo = freshRepo();
    const before = hub.requests.length;
    const result = await pushAdapter({ dir: MOR_FIXTURE, repo, hubUrl: hub.url, accessToken: TOKEN });
    expect(result.createdRepo).toBe(true);
    expect(result.repoUrl).toBe(`${hub.url}/${repo}`);
    expect(result.parameterCount).toBe(9312);
    expect(result.files).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'README.md']);

    const files = hub.files(repo);
    expect(Buffer.from(files.get('adapter_config.json')!.bytes)).toEqual(
      await readFile(join(MOR_FIXTURE, 'adapter_config.json')),
    );
    const weights = files.get('adapter_model.safetensors')!;
    expect(Buffer.from(weights.bytes)).toEqual(
      await readFile(join(MOR_FIXTURE, 'adapter_model.safetensors')),
    );
    expect(weights.lfsOid).toMatch(/^[0-9a-f]{64}$/); // went through the LFS batch + PUT path, as on the Hub
    expect(files.get('README.md')!.lfsOid).toBeUndefined();

    const calls = hub.requests.slice(before).map((r) => `${r.method} ${r.path}`);
    expect(calls.filter((c) => c.includes('/commit/'))).toEqual([`POST /api/models/${repo}/commit/main`]);
    expect(calls).toContain(`POST /${repo}.git/info/lfs/objects/batch`);
    expect(result.commit.oid).toBe(hub.repos.get(repo)!.branches.get('main'));
    // Every API call carried the token; only the pre-signed storage PUT goes without it.
    for (const r of hub.requests.slice(before)) {
      expect(r.authorization).toBe(r.path.startsWith('/__lfs/') ? undefined : `Bearer ${TOKEN}`);
    }
  });

  it('writes a model card with the adapter facts', async () => {
    const repo = freshRepo();
    await pushAdapter({ dir: MOR_FIXTURE, repo, hubUrl: hub.url, accessToken: TOKEN });
    const card = Buffer.from(hub.files(repo).get('README.md')!.bytes).toString('utf8');
    const front = card.split('---\n')[1]!;
    expect(front).toContain('library_name: transformers.js');
    expect(front).toContain('base_model: "tiny-llama"');
    expect(front).toContain('pipeline_tag: text-generation');
    for (const tag of ['mor', 'peft', 'lora', 'transformers.js']) expect(front).toContain(`  - "${tag}"`);
    expect(card).toContain('| trainable parameters | 9,312 |');
    expect(card).toContain('| rank r | 4 |');
    expect(card).toContain('| experts | 4 |');
    expect(card).toContain('| target modules | `gate_proj`, `up_proj`, `down_proj` |');
    expect(card).toContain('| routing | dense softmax over 4 experts |');
    expect(card).toContain(`npx @mor/cli pull --repo ${repo}`);
    expect(card).toContain('pipelineWithAdapter("text-generation", "tiny-llama"');
  });

  it('uploads training_summary.json and shows its data and metrics on the card', async () => {
    const dir = await scratchAdapter();
    const summary = {
      data: { file: 'train.jsonl', rows: 1200, tokens: 153600 },
      metrics: { eval_loss_before: 3.5, eval_loss_after: 2.8 },
    };
    await writeFile(join(dir, 'training_summary.json'), JSON.stringify(summary));
    const repo = freshRepo();
    const result = await pushAdapter({ dir, repo, hubUrl: hub.url, accessToken: TOKEN });
    expect(result.files).toContain('training_summary.json');
    expect(JSON.parse(Buffer.from(hub.files(repo).get('training_summary.json')!.bytes).toString())).toEqual(
      summary,
    );
    const card = Buffer.from(hub.files(repo).get('README.md')!.bytes).toString('utf8');
    expect(card).toContain('| training data | `train.jsonl` |');
    expect(card).toContain('| rows | 1,200 |');
    expect(card).toContain('| tokens | 153,600 |');
    expect(card).toContain('| eval_loss_after | 2.8 |');
    expect(card).toContain('Eval loss went from 3.5 before training to 2.8 after (-20.0%).');
  });

  it('pushes again to an existing repository as a new commit', async () => {
    const repo = freshRepo();
    const first = await pushAdapter({ dir: MOR_FIXTURE, repo, hubUrl: hub.url, accessToken: TOKEN });
    const second = await pushAdapter({
      dir: MOR_FIXTURE,
      repo,
      hubUrl: hub.url,
      accessToken: TOKEN,
      commitMessage: 'again',
    });
    expect(second.createdRepo).toBe(false);
    expect(second.commit.oid).not.toBe(first.commit.oid);
  });

  it('creates a private repository when asked', async () => {
    const repo = freshRepo();
    await pushAdapter({ dir: MOR_FIXTURE, repo, hubUrl: hub.url, accessToken: TOKEN, private: true });
    expect(hub.repos.get(repo)!.private).toBe(true);
  });

  it('refuses a wrong token in one line that names the repository and not the token', async () => {
    const repo = freshRepo();
    const error = await rejection(
      pushAdapter({ dir: MOR_FIXTURE, repo, hubUrl: hub.url, accessToken: WRONG_TOKEN }),
    );
    expect(error).toBeInstanceOf(HubError);
    expect((error as HubError).reason).toBe('auth');
    expect(error.message).toMatch(
      new RegExp(`^the Hub refused the token for ${repo}: 401 Invalid credentials`),
    );
    expect(error.message).not.toContain('\n');
    // The fake Hub echoes the token in its error body: nothing reachable from the error may still hold it.
    expect(inspect(error, { depth: 10 })).not.toContain(WRONG_TOKEN);
    expect(JSON.stringify(error)).not.toContain(WRONG_TOKEN);
    expect(hub.repos.has(repo)).toBe(false);
  });

  it('refuses to push without a token, or with something that is not a Hub token, before any request', async () => {
    const before = hub.requests.length;
    const missing = await rejection(pushAdapter({ dir: MOR_FIXTURE, repo: freshRepo(), hubUrl: hub.url }));
    expect(missing).toBeInstanceOf(HubError);
    expect(missing.message).toMatch(/^no Hub token: pushing to tester\/adapter-\d+ needs an access token/);
    const malformed = await rejection(
      pushAdapter({ dir: MOR_FIXTURE, repo: freshRepo(), hubUrl: hub.url, accessToken: 'secret-123' }),
    );
    expect(malformed.message).toContain('is not a Hub access token');
    expect(malformed.message).not.toContain('secret-123');
    expect(hub.requests.length).toBe(before);
  });

  it('validates the adapter and the summary before uploading anything', async () => {
    const before = hub.requests.length;
    const dir = await scratchAdapter();
    await writeFile(join(dir, 'training_summary.json'), JSON.stringify({ data: { rows: -3 } }));
    const badSummary = await rejection(
      pushAdapter({ dir, repo: freshRepo(), hubUrl: hub.url, accessToken: TOKEN }),
    );
    expect(badSummary).toBeInstanceOf(AdapterFormatError);
    expect(badSummary.message).toBe(
      `${join(dir, 'training_summary.json')}: data.rows: expected a non-negative integer, got -3`,
    );

    const weights = join(dir, 'adapter_model.safetensors');
    await writeFile(weights, (await readFile(weights)).subarray(0, 100));
    const badWeights = await rejection(
      pushAdapter({ dir, repo: freshRepo(), hubUrl: hub.url, accessToken: TOKEN }),
    );
    expect(badWeights.message).toContain(weights);

    const missing = await rejection(
      pushAdapter({ dir: join(dir, 'nope'), repo: freshRepo(), hubUrl: hub.url, accessToken: TOKEN }),
    );
    expect(missing.message).toContain('adapter_config.json: not found');
    expect(hub.requests.length).toBe(before);
  });

  it('refuses a repository id that is not OWNER/NAME', async () => {
    const error = await rejection(
      pushAdapter({ dir: MOR_FIXTURE, repo: 'models/a/b', hubUrl: hub.url, accessToken: TOKEN }),
    );
    expect(error.message).toBe(
      "'models/a/b' is not a model repository id: expected OWNER/NAME (e.g. my-user/my-adapter)",
    );
  });

  it('says when the Hub cannot be reached', async () => {
    // A port that was just free: nothing listens there (fetch would refuse well-known "bad ports" for another reason).
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await new Promise((done) => server.close(done));
    const error = await rejection(
      pushAdapter({ dir: MOR_FIXTURE, repo: freshRepo(), hubUrl: url, accessToken: TOKEN }),
    );
    expect((error as HubError).reason).toBe('network');
    expect(error.message).toBe(
      `cannot reach the Hub at ${url}: connect ECONNREFUSED ${url.slice('http://'.length)}`,
    );
  });
});
