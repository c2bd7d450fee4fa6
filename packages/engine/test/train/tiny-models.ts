import { createRng, initLoraLayer, initMorLayer, validateMorConfig, type MorConfigInput } from '@mor/core';
import { createLoraAdapter, createMorAdapter, type LoraAdapter, type MorAdapter } from '@mor/format';
import type { BuiltModel } from '@mor/model-builder';
import type { TrainBatch } from '../../src/train/index.js';

const layersOf = (built: BuiltModel, targets: string[]) =>
  built.linears.filter((l) => targets.some((t) => l.module.endsWith(`.${t}`)));

/** A MoR adapter on `targets` of a built model, every tensor random (B ≠ 0, ω ≠ 1) so every gradient flows. */
export function randomMorAdapter(
  built: BuiltModel,
  config: Omit<MorConfigInput, 'targets'> & { targets: string[] },
  seed = 1,
): MorAdapter {
  const cfg = validateMorConfig(config);
  const rng = createRng(seed);
  const layers = new Map(
    layersOf(built, config.targets).map((l) => {
      const w = initMorLayer({ dIn: l.dIn, dOut: l.dOut, config: cfg, rng });
      rng.fillUniform(w.B, -0.2, 0.2);
      rng.fillUniform(w.omegaA, 0.5, 1.5);
      rng.fillUniform(w.omegaB, 0.5, 1.5);
      return [l.module, w] as const;
    }),
  );
  return createMorAdapter({ config: cfg, layers, taskType: 'SEQ_CLS' });
}

/** A plain LoRA adapter (B zeros, as PEFT initialises it). */
export function freshLoraAdapter(built: BuiltModel, targets: string[], r = 4, alpha = 8): LoraAdapter {
  const rng = createRng(3);
  return createLoraAdapter({
    r,
    alpha,
    targets,
    rawConfig: { peft_type: 'LORA', r, lora_alpha: alpha, target_modules: targets },
    layers: new Map(
      layersOf(built, targets).map((l) => [l.module, initLoraLayer({ dIn: l.dIn, dOut: l.dOut, r, rng })]),
    ),
  });
}

/** Random rows of token ids in [5, vocab): a causal-LM or a classification batch. */
export function randomBatch(
  rows: number,
  length: number,
  vocab: number,
  classes?: number,
  seed = 7,
): TrainBatch {
  const rng = createRng(seed);
  const ids = BigInt64Array.from({ length: rows * length }, () =>
    BigInt(5 + Math.floor(rng.uniform() * (vocab - 5))),
  );
  const labels = classes ? BigInt64Array.from({ length: rows }, (_, i) => BigInt(i % classes)) : ids.slice();
  return {
    inputIds: ids,
    attentionMask: new BigInt64Array(rows * length).fill(1n),
    labels,
    batchSize: rows,
    seqLength: length,
  };
}
