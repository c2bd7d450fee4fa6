import { saveAdapter } from '@mor/format/node';
import type { Adapter } from '@mor/format';
import { checkOptions, type OptionNames } from '@mor/transformers';
import { writeDirAtomic } from '@mor/transformers/node';
import { defaultTargets } from '../default-targets.js';
import { TrainConfigError } from '../errors.js';
import { initAdapterForModel, type InitAdapterForModelOptions } from '../init-adapter-for-model.js';
import { openTrainingModel } from './open-training-model.js';

/** Options of {@link initAdapterDir} (docs/cli.md `mor init`). */
export interface InitAdapterDirOptions extends Omit<
  InitAdapterForModelOptions,
  'model' | 'targets' | 'taskType' | 'baseModel'
> {
  /** Local transformers.js model directory; layer shapes come from its `onnx/model.onnx`. */
  model: string;
  /** New adapter directory (must not exist or be empty). */
  out: string;
  /** Default: PEFT's targets for the model type. */
  targets?: string[];
}

/**
 * Writes a freshly initialised adapter for a model (`mor init`): target layers and their shapes from the graph,
 * seeded init (mor-spec.md §1), `task_type` from the model's head. The directory appears whole or not at all.
 */
const INIT_ADAPTER_DIR_OPTIONS = {
  model: true,
  out: true,
  targets: true,
  rank: true,
  alpha: true,
  experts: true,
  topK: true,
  routerBias: true,
  dropout: true,
  seed: true,
  kind: true,
} satisfies OptionNames<InitAdapterDirOptions>;

export async function initAdapterDir(o: InitAdapterDirOptions): Promise<Adapter> {
  checkOptions('initAdapterDir', o, INIT_ADAPTER_DIR_OPTIONS);
  const m = await openTrainingModel(o.model, undefined, undefined, { mapWeights: true }); // shapes only
  const targets = o.targets ?? defaultTargets(m.config['model_type']);
  if (!targets)
    throw new TrainConfigError(
      `no default targets for model type ${JSON.stringify(m.config['model_type'])}: give --targets`,
    );
  const adapter = initAdapterForModel({
    ...o,
    model: m.graph,
    targets,
    taskType: m.task === 'seq-cls' ? 'SEQ_CLS' : 'CAUSAL_LM',
    baseModel: m.name,
  });
  await writeDirAtomic(o.out, (tmp) => saveAdapter(tmp, adapter));
  return adapter;
}
