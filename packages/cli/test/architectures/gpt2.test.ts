import { join } from 'node:path';
import { buildGpt2, writeModelDir } from '@mor/model-builder';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomLoraAdapter, saveTo } from '../helpers/adapters.js';
import { expectOk, forward, idsFile, maxDiff, scratch } from '../helpers/logits.js';
import { runCli } from '../run-cli.js';

describe('GPT-2 (Conv1D weights stored [d_in, d_out]) with a PEFT LoRA on c_attn, fan_in_fan_out: true', () => {
  for (const form of ['matmul', 'gemm'] as const) {
    describe(`Conv1D exported as ${form}`, () => {
      let model: string;
      let adapter: string;
      let ids: string;
      beforeAll(async () => {
        const dir = await scratch('mor-gpt2-');
        const built = buildGpt2({ seed: 4, conv1dForm: form });
        model = await writeModelDir(join(dir, 'gpt2'), built);
        const layers = built.linears.filter((l) => l.module.endsWith('.attn.c_attn'));
        expect(layers.map((l) => [l.dIn, l.dOut])).toEqual([
          [64, 192],
          [64, 192],
        ]);
        const lora = randomLoraAdapter(layers, { targets: ['c_attn'], fanInFanOut: true, seed: 6 });
        adapter = await saveTo(join(dir, 'lora'), lora);
        ids = await idsFile([[1, 40, 77, 120, 9, 300, 51, 2]]);
      });

      it('merged == live, and both differ from the base model', async () => {
        const merged = join(await scratch(), 'merged');
        expectOk(await runCli(['merge', '--model', model, '--adapter', adapter, '--out', merged]));
        const [base, m, live] = await Promise.all([
          forward(model, ids),
          forward(merged, ids),
          forward(model, ids, '--adapter', adapter),
        ]);
        expect(maxDiff(m, live)).toBeLessThan(1e-4);
        expect(maxDiff(base, live)).toBeGreaterThan(1e-3);
      });
    });
  }
});
