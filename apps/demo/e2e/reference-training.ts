// The same training run as the page's, in Node on onnxruntime-node (CPU): same ONNX file, tokenizer, data
// pipeline, initial adapter, seed, optimizer and loop. The page's per-step losses and trained weights are checked
// against it, so the curve the demo draws is shown to be the real optimisation, not something made up.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AutoTokenizer, env } from '@huggingface/transformers';
import type { MorAdapter } from '@mor/format';
import { decodeModel } from '@mor/onnx';
import { TrainSession } from '@mor/engine';
import { initAdapterForModel, runTrainLoop } from '@mor/trainer';
import { MULTITASK_EXAMPLES } from '../src/data/multitask.js';
import { encodeDataset, padTokenId } from '../src/train/encode-dataset.js';
import { FIXTURES } from './fixtures.js';

/** The training settings a test types into the panel. */
export interface TrainSettings {
  init: 'fresh' | 'loaded';
  steps: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

/** The initial adapter the page starts from: the fixture adapter, or a fresh one shaped like it (seeded). */
export async function initialAdapter(
  settings: TrainSettings,
  fixtureAdapter: MorAdapter,
): Promise<MorAdapter> {
  if (settings.init === 'loaded') return fixtureAdapter;
  const c = fixtureAdapter.config;
  const graph = await decodeModel(modelBytes());
  const adapter = initAdapterForModel({
    model: graph,
    targets: c.targets,
    kind: 'mor',
    seed: settings.seed,
    rank: c.r,
    alpha: c.alpha,
    experts: c.experts,
    topK: c.topK,
    routerBias: c.routerBias,
    baseModel: 'tiny-llama-kv',
  });
  return adapter as MorAdapter;
}

function modelBytes(): Uint8Array {
  return new Uint8Array(readFileSync(new URL('tiny-llama-kv/onnx/model.onnx', FIXTURES)));
}

/** Runs the reference training; returns the per-step losses and the trained adapter. */
export async function referenceTraining(
  settings: TrainSettings,
  initial: MorAdapter,
): Promise<{ losses: number[]; adapter: MorAdapter }> {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = fileURLToPath(FIXTURES);
  const tokenizer = await AutoTokenizer.from_pretrained('tiny-llama-kv');
  const examples = encodeDataset(MULTITASK_EXAMPLES, tokenizer);
  const session = await TrainSession.create({
    model: modelBytes(),
    task: 'causal-lm',
    method: 'mor',
    adapter: initial,
    optimizer: { kind: 'adamw', lr: settings.learningRate, weightDecay: 0.01 },
    device: 'cpu',
    dropoutSeed: settings.seed,
  });
  const losses: number[] = [];
  try {
    await runTrainLoop({
      session,
      examples,
      task: 'causal-lm',
      padTokenId: padTokenId(tokenizer),
      batchSize: settings.batchSize,
      totalSteps: settings.steps,
      schedule: { kind: 'constant', lr: settings.learningRate },
      seed: settings.seed,
      onStep: (state) => losses.push(state.loss),
    });
    return { losses, adapter: (await session.getAdapter()) as MorAdapter };
  } finally {
    await session.dispose();
  }
}
