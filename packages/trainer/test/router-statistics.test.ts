import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLlama, writeModelDir, randomMorAdapter } from '@mor/model-builder';
import { saveAdapter } from '@mor/format/node';
import { describe, expect, it } from 'vitest';
import { MorInputError } from '@mor/engine';
import { routerStatistics, saveStaticGate } from '../src/node/index.js';
import { fixture } from './helpers.js';

const scratch = () => mkdtemp(join(tmpdir(), 'mor-gates-'));

function softmax(v: number[]): number[] {
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

describe('routerStatistics', () => {
  it('with a zero router weight every token gets softmax(bias): the mean is exactly that (dense and top-2)', async () => {
    const dir = await scratch();
    const built = buildLlama({ seed: 21 });
    const model = await writeModelDir(join(dir, 'llama'), built);
    const layers = built.linears.filter((l) => l.module.endsWith('.up_proj'));
    const data = join(dir, 'data.jsonl');
    await writeFile(data, '{"text": "hello there"}\n{"input_ids": [1, 5, 9, 200, 31, 7, 7]}\n');
    const bias = [0.3, -1.2, 2.0, 0.1];
    for (const topK of [null, 2]) {
      const mor = randomMorAdapter(layers, { targets: ['up_proj'], routerBias: true, topK, seed: 22 });
      for (const w of mor.layers.values()) {
        w.routerWeight.fill(0);
        w.routerBias!.set(bias);
      }
      const adapter = join(dir, `adapter-${topK ?? 'dense'}`);
      await saveAdapter(adapter, mor);
      const stats = await routerStatistics({ model, adapter, data });
      // top-2 keeps experts 2 and 0 (the largest biases) and renormalises over them.
      const expected =
        topK === null
          ? softmax(bias)
          : (() => {
              const [g0, g2] = softmax([bias[0]!, bias[2]!]);
              return [g0!, 0, g2!, 0];
            })();
      expect(stats.rows).toBe(2);
      expect(Object.keys(stats.layers)).toEqual(['model.layers.0.mlp.up_proj', 'model.layers.1.mlp.up_proj']);
      for (const g of [...Object.values(stats.layers), stats.overall]) {
        g.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
      }
    }
  });

  it('saves the overall mean into static_gates, keeping the rest of adapter_config.json', async () => {
    const adapter = join(await scratch(), 'adapter');
    await cp(fixture('tiny-llama/mor-adapter'), adapter, { recursive: true });
    const before = JSON.parse(await readFile(join(adapter, 'adapter_config.json'), 'utf8'));
    const stats = await routerStatistics({
      model: fixture('tiny-llama'),
      adapter,
      data: fixture('tiny-llama/golden_data.jsonl'),
      maxLength: 4,
      saveAs: 'golden-mean',
    });
    expect(stats.tokens).toBe(8); // two rows truncated to 4 tokens
    const after = JSON.parse(await readFile(join(adapter, 'adapter_config.json'), 'utf8'));
    expect(after).toEqual({ ...before, static_gates: { 'golden-mean': stats.overall } });
  });

  it('refuses a LoRA adapter, a bad gate name, and a gate of the wrong length', async () => {
    await expect(
      routerStatistics({
        model: fixture('tiny-llama'),
        adapter: fixture('tiny-llama/peft-lora'),
        data: 'x.jsonl',
      }),
    ).rejects.toThrow(MorInputError);
    const adapter = join(await scratch(), 'adapter');
    await cp(fixture('tiny-llama/mor-adapter'), adapter, { recursive: true });
    await expect(saveStaticGate(adapter, 'uniform', [0.25, 0.25, 0.25, 0.25])).rejects.toThrow(/cannot name/);
    await expect(saveStaticGate(adapter, 'task', [1, 0])).rejects.toThrow(/4 finite numbers/);
  });
});
