// Seeded MoR and LoRA adapters for the benchmark. B starts at zero in a fresh adapter (mor-spec.md §1), which
// would make the branch output trivially zero; it is filled with small random values so the branch does real
// work and its output is not a constant onnxruntime could in principle skip. Omegas get a little noise so the
// experts differ.
import { createRng, initLoraLayer, initMorLayer, validateMorConfig } from '@mor/core';
import { createLoraAdapter, createMorAdapter } from '@mor/format';

export const PROJECTIONS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

/** The linears of a built model that the adapters target (every projection, not lm_head). */
export function targetLinears(built) {
  return built.linears.filter((l) => PROJECTIONS.some((p) => l.module.endsWith(`.${p}`)));
}

/** A MoR adapter `{ r, experts, topK }` on `linears`, deterministic for a seed. */
export function makeMorAdapter(linears, { r, experts, topK = null, seed }) {
  const config = validateMorConfig({ r, alpha: 2 * r, experts, topK, targets: PROJECTIONS });
  const rng = createRng(seed);
  const layers = new Map();
  for (const { module, dIn, dOut } of linears) {
    const w = initMorLayer({ dIn, dOut, config, rng });
    rng.fillNormal(w.B, 0, 0.02);
    for (const omega of [w.omegaA, w.omegaB])
      for (let i = 0; i < omega.length; i++) omega[i] = 1 + 0.1 * rng.normal();
    layers.set(module, w);
  }
  return createMorAdapter({ config, layers });
}

/** A plain PEFT LoRA adapter of rank r on `linears` (the shape `@mor/format` loads). */
export function makeLoraAdapter(linears, { r, seed }) {
  const rng = createRng(seed);
  const layers = new Map();
  for (const { module, dIn, dOut } of linears) {
    const w = initLoraLayer({ dIn, dOut, r, rng });
    rng.fillNormal(w.B, 0, 0.02);
    layers.set(module, w);
  }
  return createLoraAdapter({ r, alpha: 2 * r, targets: PROJECTIONS, layers });
}
