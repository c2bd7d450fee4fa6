import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { forward, idsFile, maxDiff, type Logits } from './helpers/logits.js';
import { fixture } from './run-cli.js';

const read = <T>(rel: string): T => JSON.parse(readFileSync(fixture(rel), 'utf8')) as T;
const golden = read<{
  input_ids: number[][];
  logits_base: Logits;
  logits_mor: Logits;
  logits_peft_lora: Logits;
}>('tiny-llama/golden.json');
const kv = read<{ prompt_ids: number[]; prompt_logits_mor: Logits; prompt_logits_base: Logits }>(
  'tiny-llama-kv/golden.json',
);

describe('mor forward against the PyTorch goldens (within 1e-4)', () => {
  it('tiny-llama: base, MoR adapter and PEFT LoRA adapter', async () => {
    const ids = await idsFile(golden.input_ids);
    const model = fixture('tiny-llama');
    expect(maxDiff(await forward(model, ids), golden.logits_base)).toBeLessThan(1e-4);
    expect(
      maxDiff(await forward(model, ids, '--adapter', fixture('tiny-llama/mor-adapter')), golden.logits_mor),
    ).toBeLessThan(1e-4);
    const lora = await forward(model, ids, '--adapter', fixture('tiny-llama/peft-lora'));
    expect(maxDiff(lora, golden.logits_peft_lora)).toBeLessThan(1e-4);
  });

  it('tiny-llama-kv: prompt logits with the MoR adapter (and without)', async () => {
    const ids = await idsFile([kv.prompt_ids]);
    const model = fixture('tiny-llama-kv');
    const mor = await forward(model, ids, '--adapter', fixture('tiny-llama-kv/mor-adapter'));
    expect(maxDiff(mor, kv.prompt_logits_mor)).toBeLessThan(1e-4);
    expect(maxDiff(await forward(model, ids), kv.prompt_logits_base)).toBeLessThan(1e-4);
  });
});
