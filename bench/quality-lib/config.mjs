// The study's settings (docs/quality.md): methods as `mor train` flags, learning-rate grids, and the quick and
// full sizes. Pure data and arithmetic: nothing here runs a model.
import { matchedLoraRank } from '@mor/wordnet-llama';

/** The seven projections of every layer: the adapters' targets (full fine-tuning trains every linear layer). */
export const TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

export const MOR = { r: 8, experts: 8, routerBias: false };
/** MoELoRA: 4 experts of rank 4, the shape whose size is closest to the paper's MoR/MoELoRA ratio (93.93 %). */
export const MOELORA = { r: 4, experts: 4 };

/** `mor train` flags of each method, given the adapted layers' shapes. */
export function methodFlags(method, shapes) {
  const targets = ['--targets', TARGETS.join(',')];
  switch (method) {
    case 'lora':
      return ['--method', 'lora', ...targets, '--rank', '8'];
    case 'lora-matched':
      return ['--method', 'lora', ...targets, '--rank', String(matchedLoraRank(shapes, MOR))];
    case 'moelora':
      return [
        '--method',
        'moelora',
        ...targets,
        '--rank',
        String(MOELORA.r),
        '--experts',
        String(MOELORA.experts),
      ];
    case 'mor':
      return ['--method', 'mor', ...targets, '--rank', String(MOR.r), '--experts', String(MOR.experts)];
    case 'mor-top2':
      return [...methodFlags('mor', shapes), '--top-k', '2'];
    case 'full':
      return ['--method', 'full'];
    default:
      throw new Error(`unknown method "${method}"`);
  }
}

/** Learning rates tried on the dev split (full study), per method. */
export function lrGrid(method) {
  return method === 'full' ? [1e-4, 3e-4, 1e-3] : [1e-3, 3e-3, 1e-2];
}

/** The quick run's fixed learning rate per method: the middle of its grid. */
export const quickLr = (method) => lrGrid(method)[1];

/** Sizes of the two study variants. */
export const SIZES = {
  quick: { seeds: [0], steps: 300, batchSize: 16, warmup: 20, testPerTask: 40, devPerTask: 0, grid: false },
  full: {
    seeds: [0, 1, 2],
    steps: 800,
    batchSize: 16,
    warmup: 40,
    testPerTask: 200,
    devPerTask: 100,
    grid: true,
  },
};

/** New tokens decoded per prompt: the longest answers are a few words; the scorer reads the first line. */
export const MAX_NEW_TOKENS = 8;
