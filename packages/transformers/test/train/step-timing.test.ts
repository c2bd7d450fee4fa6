import { buildLlama, type BuiltModel } from '@mor/model-builder';
import { describe, expect, it } from 'vitest';
import { TrainSession, type TrainSessionOptions } from '../../src/train/index.js';
import { freshLoraAdapter, randomBatch, randomMorAdapter } from './tiny-models.js';

// Step-time measurement, MoR vs LoRA (run with MOR_TRAIN_BENCH=1; MOR_TRAIN_BENCH_DEVICE=webgpu for WebGPU).
// Adapters on all seven projections, AdamW, one warm-up step, then the median of 5.
const TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
const device = process.env['MOR_TRAIN_BENCH_DEVICE'] ?? 'cpu';

async function medianStepMs(built: BuiltModel, method: 'mor' | 'lora', rows: number, length: number) {
  const adapter =
    method === 'mor'
      ? randomMorAdapter(built, { r: 8, alpha: 16, experts: 4, targets: TARGETS })
      : freshLoraAdapter(built, TARGETS, 8, 16);
  const o: TrainSessionOptions = {
    model: built.onnx,
    task: 'causal-lm',
    method,
    adapter,
    optimizer: { kind: 'adamw', lr: 1e-3 },
    device,
  };
  const t0 = performance.now();
  const s = await TrainSession.create(o);
  const createMs = performance.now() - t0;
  const batch = randomBatch(rows, length, 380);
  await s.step(batch, { lr: 1e-3 });
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await s.step(batch, { lr: 1e-3 });
    times.push(performance.now() - t);
  }
  await s.dispose();
  const ms = times.sort((a, b) => a - b)[2]!;
  return { createMs, ms, tokPerS: (rows * length * 1000) / ms };
}

describe.skipIf(!process.env['MOR_TRAIN_BENCH'])('train step timing (MOR_TRAIN_BENCH=1)', () => {
  it('tiny Llama (h64 L2) and Llama h256 L4, MoR (N4 r8) vs LoRA (r8)', async () => {
    const models = [
      { name: 'llama h64 L2', built: buildLlama({ withoutKvCache: true }), rows: 2, length: 16 },
      {
        name: 'llama h256 L4',
        built: buildLlama({ hidden: 256, layers: 4, withoutKvCache: true }),
        rows: 4,
        length: 64,
      },
    ];
    for (const m of models)
      for (const method of ['mor', 'lora'] as const) {
        const r = await medianStepMs(m.built, method, m.rows, m.length);
        console.log(
          `${device} ${m.name} ${m.rows}x${m.length} ${method}: create ${r.createMs.toFixed(0)} ms, step ${r.ms.toFixed(1)} ms (${r.tokPerS.toFixed(0)} tok/s)`,
        );
        expect(r.ms).toBeGreaterThan(0);
      }
  }, 600_000);
});
