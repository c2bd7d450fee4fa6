import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportPeftLora } from '@mor/format';
import { loadAdapter, saveAdapter } from '@mor/format/node';
import { describe, expect, it } from 'vitest';
import { fixture } from './helpers.js';

describe('exportPeftLora (mor-spec.md §3)', () => {
  it('keeps A, writes B ⊙ M, and round-trips as a PEFT LoRA directory', async () => {
    const mor = await loadAdapter(fixture('tiny-llama/mor-adapter'));
    if (mor.kind !== 'mor') throw new Error('fixture is not MoR');
    const gate = [0.1, 0.2, 0.3, 0.4];
    const lora = exportPeftLora(mor, gate);
    expect(lora.scaling).toBe(mor.config.alpha / mor.config.r);
    const { r, experts: n } = mor.config;
    for (const [module, w] of mor.layers) {
      const l = lora.layers.get(module)!;
      expect(Array.from(l.A)).toEqual(Array.from(w.A));
      // M[j,k] = Σ_i g_i ω_B[i,j] ω_A[i,k], written out here element by element.
      for (const [j, k] of [
        [0, 0],
        [w.dOut - 1, r - 1],
        [3, 2],
      ] as const) {
        let m = 0;
        for (let i = 0; i < n; i++) m += gate[i]! * w.omegaB[i * w.dOut + j]! * w.omegaA[i * r + k]!;
        expect(l.B[j * r + k]).toBeCloseTo(w.B[j * r + k]! * m, 6);
      }
    }
    const dir = await mkdtemp(join(tmpdir(), 'mor-export-'));
    await saveAdapter(dir, lora);
    const config = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({
      peft_type: 'LORA',
      r: 4,
      lora_alpha: 8,
      fan_in_fan_out: false,
      use_rslora: false,
    });
    expect(config).not.toHaveProperty('num_experts');
    const back = await loadAdapter(dir);
    expect(back.kind).toBe('lora');
    expect([...back.layers.keys()]).toEqual([...mor.layers.keys()]);
  });

  it('refuses a gate of the wrong length or with non-finite values', async () => {
    const mor = await loadAdapter(fixture('tiny-llama/mor-adapter'));
    if (mor.kind !== 'mor') throw new Error('fixture is not MoR');
    expect(() => exportPeftLora(mor, [0.5, 0.5])).toThrow(/4 finite numbers/);
    expect(() => exportPeftLora(mor, [Number.NaN, 0, 0, 1])).toThrow(/4 finite numbers/);
  });
});
