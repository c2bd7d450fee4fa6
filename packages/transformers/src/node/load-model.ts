import {
  AutoModelForCausalLM,
  AutoModelForSequenceClassification,
  type DataType,
  type DeviceType,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import type { AdapterInput } from '../adapter-input.js';
import { checkDevice, MorInputError } from '@mor/engine';
import type { GateSpec } from '../gate-spec.js';
import { loadWithAdapter } from '../load-with-adapter.js';
import { loadTokenizer } from './load-tokenizer.js';
import { readModelConfig, resolveModelSource, useModelSource, type ModelSource } from './model-source.js';

/** The two model heads the command line drives. */
export type ModelTask = 'causal-lm' | 'seq-cls';

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** A local transformers.js model directory (read offline), or a Hugging Face Hub id (downloaded). */
  model: string;
  /** An adapter to attach: a directory or an `Adapter` from `@mor/format`. */
  adapter?: AdapterInput;
  /** A fixed gate for a MoR adapter (static routing); see `resolveGate`. */
  gate?: GateSpec;
  /** Add the router gates as outputs (`mor_gates.<module>`), e.g. for router statistics. */
  exposeGates?: boolean;
  /** `cpu` (default in Node), `webgpu`, `cuda`; checked before anything is loaded. */
  device?: string;
  /** transformers.js `dtype` (picks `onnx/model{_fp16,_quantized,…}.onnx`); default: transformers.js' own. */
  dtype?: string;
  /** Which head to load; default from `config.json`'s `architectures`. */
  task?: ModelTask;
  /** Load the tokenizer too (default true); `mor forward` takes token ids and needs none. */
  tokenizer?: boolean;
}

/** A loaded model with what the commands around it need. */
export interface LoadedModel {
  model: PreTrainedModel;
  /** Null when loaded with `tokenizer: false`. */
  tokenizer: PreTrainedTokenizer | null;
  config: Record<string, unknown>;
  task: ModelTask;
  source: ModelSource;
}

/** The head `config.json`'s `architectures` names, or null when it names neither kind. */
export function taskFromConfig(config: Record<string, unknown>): ModelTask | null {
  const archs = Array.isArray(config['architectures']) ? (config['architectures'] as unknown[]) : [];
  for (const a of archs) {
    if (typeof a !== 'string') continue;
    if (/ForSequenceClassification$/.test(a)) return 'seq-cls';
    if (/(ForCausalLM|LMHeadModel)$/.test(a)) return 'causal-lm';
  }
  return null;
}

/**
 * Loads a model and its tokenizer for the `mor` commands: `AutoModelForCausalLM` or
 * `AutoModelForSequenceClassification` as `config.json` says, with the adapter (and gate) attached through
 * {@link loadWithAdapter}. A local directory is read with the network off.
 *
 * @throws {MorInputError} for a missing directory or a model whose head cannot be told from its config.
 */
export async function loadModel(options: LoadModelOptions): Promise<LoadedModel> {
  // Check the device first: a typo should not cost a model load.
  if (options.device !== undefined) await checkDevice(options.device);
  const source = await resolveModelSource(options.model);
  const config = await readModelConfig(source);
  const task = options.task ?? taskFromConfig(config);
  if (!task) {
    const archs = JSON.stringify(config['architectures'] ?? null);
    throw new MorInputError(
      `cannot tell the model's head from config.json architectures ${archs}: expected *ForCausalLM, ` +
        '*LMHeadModel or *ForSequenceClassification',
    );
  }
  const id = useModelSource(source);
  const cls = task === 'seq-cls' ? AutoModelForSequenceClassification : AutoModelForCausalLM;
  const model = await loadWithAdapter(cls, id, {
    ...(options.adapter !== undefined ? { adapter: options.adapter } : {}),
    ...(options.gate !== undefined ? { gate: options.gate } : {}),
    ...(options.exposeGates ? { exposeGates: true } : {}),
    ...(options.device !== undefined ? { device: options.device as DeviceType } : {}),
    ...(options.dtype !== undefined ? { dtype: options.dtype as DataType } : {}),
  });
  let tokenizer: PreTrainedTokenizer | null = null;
  try {
    if (options.tokenizer !== false) tokenizer = await loadTokenizer(source);
  } catch (e) {
    await model.dispose();
    throw e;
  }
  return { model, tokenizer, config, task, source };
}
