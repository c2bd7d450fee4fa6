import { join } from 'node:path';
import { buildQwen2, writeModelDir } from '@mor/model-builder';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomMorAdapter, saveTo } from '../helpers/adapters.js';
import { expectOk, forward, idsFile, maxDiff, scratch } from '../helpers/logits.js';
import { runCli } from '../run-cli.js';

const TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];
const GATE = JSON.stringify([0.1, 0.4, 0.2, 0.3]);

describe('Qwen2 (biased q/k/v, tied embeddings, KV cache) with a top-2-of-4 MoR adapter with router bias', () => {
  let model: string;
  let adapter: string;
  let ids: string;
  beforeAll(async () => {
    const dir = await scratch('mor-qwen2-');
    const built = buildQwen2({ seed: 3 });
    model = await writeModelDir(join(dir, 'qwen2'), built);
    const layers = built.linears.filter((l) => TARGETS.some((t) => l.module.endsWith(`.${t}`)));
    expect(layers).toHaveLength(8);
    const mor = randomMorAdapter(layers, {
      targets: TARGETS,
      experts: 4,
      topK: 2,
      routerBias: true,
      seed: 5,
    });
    adapter = await saveTo(join(dir, 'adapter'), mor);
    ids = await idsFile([
      [1, 40, 77, 120, 9, 300, 51],
      [1, 200, 13, 64, 64, 7, 380],
    ]);
  });

  it('the live adapter (top-k routing) changes the logits', async () => {
    const [base, live] = await Promise.all([forward(model, ids), forward(model, ids, '--adapter', adapter)]);
    expect(maxDiff(base, live)).toBeGreaterThan(1e-3);
  });

  it('merged under a static gate == live with that gate, for forward and for greedy generation', async () => {
    const merged = join(await scratch(), 'merged');
    expectOk(
      await runCli(['merge', '--model', model, '--adapter', adapter, '--gate', GATE, '--out', merged]),
    );
    const [m, live, dynamic] = await Promise.all([
      forward(merged, ids),
      forward(model, ids, '--adapter', adapter, '--gate', GATE),
      forward(model, ids, '--adapter', adapter),
    ]);
    expect(maxDiff(m, live)).toBeLessThan(1e-4);
    expect(maxDiff(dynamic, live)).toBeGreaterThan(1e-3);
    const gen = ['generate', '--prompt', 'a small test', '--max-new-tokens', '8', '--greedy', '--json'];
    const [g1, g2] = await Promise.all([
      runCli([...gen, '--model', merged]),
      runCli([...gen, '--model', model, '--adapter', adapter, '--gate', GATE]),
    ]);
    expect(JSON.parse(expectOk(g1).stdout).token_ids).toEqual(JSON.parse(expectOk(g2).stdout).token_ids);
  });
});
