import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, runCli, type CliResult } from './run-cli.js';

// Nothing here reaches the network: HF_ENDPOINT is a closed local port, or a local server answering 404.
let closedPort = 0;
let notFound: Server;
let notFoundUrl = '';
let root = '';
beforeAll(async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  notFound = createServer((_, res) => {
    res.statusCode = 404;
    res.setHeader('content-type', 'application/json');
    res.end('{"error":"Repository not found"}');
  });
  await new Promise<void>((r) => notFound.listen(0, '127.0.0.1', r));
  notFoundUrl = `http://127.0.0.1:${(notFound.address() as AddressInfo).port}`;
  root = await mkdtemp(join(tmpdir(), 'mor-cli-not-found-'));
  await writeFile(join(root, 'ids.json'), '[[1, 2, 3]]');
});
afterAll(async () => {
  await new Promise<void>((r) => notFound.close(() => r()));
  await rm(root, { recursive: true, force: true });
});

const model = fixture('tiny-llama');
const data = fixture('tiny-llama/golden_data.jsonl');
/** Every command taking --model or --adapter, with `X` where the missing value goes. */
const commands: Record<string, string[]> = {
  'generate --model': ['generate', '--model', 'X', '--prompt', 'a'],
  'classify --model': ['classify', '--model', 'X', '--text', 'a'],
  'forward --model': ['forward', '--model', 'X', '--input-ids', 'IDS', '--out', 'OUT/l.json'],
  'eval --model': ['eval', '--model', 'X', '--data', data],
  'gates --model': ['gates', '--model', 'X', '--adapter', fixture('tiny-llama/mor-adapter'), '--data', data],
  'init --model': ['init', '--model', 'X', '--out', 'OUT/a'],
  'train --model': ['train', '--model', 'X', '--data', data, '--out', 'OUT/t'],
  'generate --adapter': ['generate', '--model', model, '--adapter', 'X', '--prompt', 'a'],
  'forward --adapter': [
    'forward',
    '--model',
    model,
    '--adapter',
    'X',
    '--input-ids',
    'IDS',
    '--out',
    'OUT/l.json',
  ],
  'export --adapter': [
    'export',
    '--adapter',
    'X',
    '--to',
    'peft-lora',
    '--gate',
    'uniform',
    '--out',
    'OUT/e',
  ],
  'merge --adapter': ['merge', '--model', model, '--adapter', 'X', '--out', 'OUT/m'],
};
const run = (args: string[], value: string, endpoint: string): Promise<CliResult> =>
  runCli(
    args.map((a) =>
      a === 'X' ? value : a === 'IDS' ? join(root, 'ids.json') : a.replace(/^OUT/, join(root, 'out')),
    ),
    { HF_ENDPOINT: endpoint, HF_TOKEN: '', MOR_CACHE: join(root, 'cache') },
  );

function expectLine(r: CliResult, what: RegExp): void {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(what);
}

const subject = (flag: string, value: string) =>
  flag.endsWith('--adapter')
    ? `cannot load adapter from "${value}": not a local directory`
    : `model "${value}" is not a local directory`;

describe('a --model / --adapter that is neither a directory nor on the Hub says both (was: "error: fetch failed")', () => {
  it.each(Object.keys(commands))('%s: the Hub cannot be reached', async (flag) => {
    const r = await run(commands[flag]!, 'tester/does-not-exist', `http://127.0.0.1:${closedPort}`);
    expectLine(
      r,
      new RegExp(
        `^error: ${subject(flag, 'tester/does-not-exist')}, and pulling it from the Hub failed: cannot reach the Hub at http://127\\.0\\.0\\.1:${closedPort}: .*ECONNREFUSED`,
      ),
    );
  });

  it.each(Object.keys(commands))('%s: the Hub has no such repository', async (flag) => {
    const r = await run(commands[flag]!, 'tester/does-not-exist', notFoundUrl);
    expectLine(
      r,
      new RegExp(
        `^error: ${subject(flag, 'tester/does-not-exist')}, and pulling it from the Hub failed: .*(repository tester/does-not-exist not found on|has no repository tester/does-not-exist)`,
      ),
    );
  });

  it.each(Object.keys(commands))('%s: a name that is no Hub id either', async (flag) => {
    const r = await run(commands[flag]!, 'does-not-exist', `http://127.0.0.1:${closedPort}`);
    expectLine(
      r,
      new RegExp(
        `^error: ${subject(flag, 'does-not-exist')}, and not a Hub id \\(owner/name\\[@revision\\]\\) either$`,
      ),
    );
  });
});
