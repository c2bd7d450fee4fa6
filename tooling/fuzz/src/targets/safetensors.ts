import { SafetensorsError, parseSafetensors, tensorToFloat32 } from '@mor/format';
import fc from 'fast-check';
import { applyMutations, mutationPlan, type Seed } from '../mutate.js';
import { generatedSafetensors } from '../safetensors-gen.js';
import { ADAPTER_DIRS, fixtureBytes, safetensorsSeed } from '../seeds.js';
import { defineTarget } from '../target.js';

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

export const safetensorsTarget = defineTarget<Uint8Array, Seed[]>({
  name: 'safetensors',
  description:
    'parseSafetensors + tensorToFloat32 (@mor/format) on mutated fixture files and generated headers',
  allowed: [SafetensorsError],
  async setup() {
    const files = [
      ...ADAPTER_DIRS.map((d) => `${d}/adapter_model.safetensors`),
      'fixtures/tiny-llama/model.safetensors',
    ];
    return files.map((f) => safetensorsSeed(f, fixtureBytes(f)));
  },
  inputs: (seeds) =>
    fc.oneof(
      { weight: 3, arbitrary: mutationPlan.map((plan) => applyMutations(plan, seeds)) },
      { weight: 2, arbitrary: generatedSafetensors },
    ),
  run(bytes) {
    const file = parseSafetensors(bytes, { fileName: 'fuzz.safetensors' });
    let n = 0;
    for (const t of file.tensors.values()) {
      if (FLOAT_DTYPES.has(t.dtype)) n += tensorToFloat32(t, { fileName: 'fuzz.safetensors' }).length;
    }
    return n;
  },
  encode: (bytes) => bytes,
  decode: (bytes) => bytes,
  size: (bytes) => bytes.length,
});
