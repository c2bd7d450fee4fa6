import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Adapter } from '@mor/format';
import { loadAdapter } from '@mor/format/node';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, runCli } from './run-cli.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function scratch(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mor-init-cli-'));
  dirs.push(d);
  return d;
}

describe('mor init', () => {
  it('writes a fresh MoR adapter sized from the model graph, that mor inspect reads', async () => {
    const out = join(await scratch(), 'a');
    const r = await runCli([
      'init',
      '--model',
      fixture('tiny-llama'),
      '--out',
      out,
      '--targets',
      'gate_proj,up_proj,down_proj',
      '--rank',
      '4',
      '--alpha',
      '8',
      '--experts',
      '4',
      '--seed',
      '1',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    // same shapes as the PyTorch fixture adapter: 9,312 parameters over 6 modules
    expect(d.trainable_parameters).toBe(9312);
    expect(d.modules).toHaveLength(6);
    const a = await loadAdapter(out);
    const ref = await loadAdapter(fixture('tiny-llama/mor-adapter'));
    expect([...a.layers.keys()].sort()).toEqual([...ref.layers.keys()].sort());
    expect(a.baseModel).toBe('tiny-llama');
    const inspect = await runCli(['inspect', out, '--json']);
    expect(JSON.parse(inspect.stdout).trainable_parameters).toBe(9312);
  });

  it('the same seed gives the same weights; --top-k and --router-bias land in the config', async () => {
    const dir = await scratch();
    const args = (o: string, seed: string) => [
      'init',
      '--model',
      fixture('tiny-llama'),
      '--out',
      join(dir, o),
      '--targets',
      'q_proj',
      '--seed',
      seed,
      '--top-k',
      '2',
      '--router-bias',
    ];
    for (const [o, s] of [
      ['x', '4'],
      ['y', '4'],
      ['z', '5'],
    ] as const)
      expect((await runCli(args(o, s))).code).toBe(0);
    const [x, y, z] = await Promise.all(['x', 'y', 'z'].map((o) => loadAdapter(join(dir, o))));
    if (x!.kind !== 'mor') throw new Error('expected MoR');
    expect(x!.config.topK).toBe(2);
    expect(x!.config.routerBias).toBe(true);
    const A = (a: Adapter | undefined) => Array.from([...a!.layers.values()][0]!.A);
    expect(A(y)).toEqual(A(x));
    expect(A(z)).not.toEqual(A(x));
  });

  it('refuses a target the model lacks, and an existing non-empty output', async () => {
    const r = await runCli([
      'init',
      '--model',
      fixture('tiny-llama'),
      '--out',
      join(await scratch(), 'n'),
      '--targets',
      'query',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /^error: target "query" matches no linear layer of the model; its layers end in: q_proj/,
    );
    const taken = await runCli([
      'init',
      '--model',
      fixture('tiny-llama'),
      '--out',
      fixture('tiny-llama/mor-adapter'),
      '--targets',
      'q_proj',
    ]);
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain('exists and is not empty');
  });
});
