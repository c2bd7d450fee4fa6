import {
  AutoModelForCausalLM,
  AutoModelForSequenceClassification,
  pipeline,
  type AllTasks,
  type PipelineType,
  type PretrainedModelOptions,
  type PreTrainedModel,
} from '@huggingface/transformers';
import { resolveAdapter, type AdapterInput } from './adapter-input.js';
import { attachAdapter, type AttachAdapterOptions } from './attach-adapter.js';
import { checkDevice, explainDeviceFailure, withSessionRecording } from '@mor/engine';

/** Options of {@link loadWithAdapter}: transformers.js' own loading options, plus the adapter's. */
export interface LoadWithAdapterOptions
  extends PretrainedModelOptions, Pick<AttachAdapterOptions, 'gate' | 'exposeGates' | 'onGates' | 'session'> {
  /**
   * The adapter to attach: an `Adapter` from `@mor/format`, or (in Node) an adapter directory. Without one the
   * model is loaded plain but can take an adapter later through {@link attachAdapter}.
   */
  adapter?: AdapterInput;
}

/** A transformers.js model class (any `AutoModel*` or concrete model class). */
export interface ModelClass<M> {
  from_pretrained(modelId: string, options?: PretrainedModelOptions): Promise<M>;
}

/** Separates our options from the ones passed through to transformers.js unchanged. */
function split(options: LoadWithAdapterOptions) {
  const { adapter, gate, exposeGates, onGates, session, ...pretrained } = options;
  return { adapter, attach: { gate, exposeGates, onGates, session }, pretrained };
}

/** Loads through transformers.js while recording the sessions' sources, then attaches the adapter. */
async function load<M extends object>(
  create: (o: PretrainedModelOptions) => Promise<M>,
  options: LoadWithAdapterOptions,
  modelOf: (loaded: M) => PreTrainedModel,
): Promise<M> {
  const { adapter, attach, pretrained } = split(options);
  if (typeof pretrained.device === 'string') await checkDevice(pretrained.device);
  // Read the adapter first: a bad path should fail before a possibly long model download.
  const resolved = adapter === undefined ? undefined : await resolveAdapter(adapter);
  let loaded: M;
  try {
    loaded = await withSessionRecording(() => create(pretrained));
  } catch (error) {
    throw explainDeviceFailure(typeof pretrained.device === 'string' ? pretrained.device : undefined, error);
  }
  if (resolved) {
    const model = modelOf(loaded);
    try {
      await attachAdapter(model as unknown as { sessions: Record<string, unknown> }, resolved, attach);
    } catch (error) {
      await model.dispose();
      throw error;
    }
  }
  return loaded;
}

/**
 * `modelClass.from_pretrained(modelId, options)` with an adapter attached: returns the usual transformers.js
 * model, so `generate()`, `model(inputs)` and pipelines work as always. Every transformers.js option
 * (`dtype`, `device`, `revision`, `progress_callback`, `session_options`, …) is passed through unchanged.
 *
 * @example
 * const model = await loadWithAdapter(AutoModelForCausalLM, 'tiny-llama-kv', { adapter: './my-adapter', dtype: 'fp32' });
 */
export function loadWithAdapter<M extends PreTrainedModel>(
  modelClass: ModelClass<M>,
  modelId: string,
  options: LoadWithAdapterOptions = {},
): Promise<M> {
  return load(
    (o) => modelClass.from_pretrained(modelId, o),
    options,
    (m) => m,
  );
}

/** A causal language model with an adapter (`AutoModelForCausalLM` + {@link loadWithAdapter}). */
export class MorModelForCausalLM {
  /** Loads the model and attaches `options.adapter`. */
  static from_pretrained(modelId: string, options: LoadWithAdapterOptions = {}): Promise<PreTrainedModel> {
    return loadWithAdapter(AutoModelForCausalLM, modelId, options);
  }
}

/** A sequence classifier with an adapter (`AutoModelForSequenceClassification` + {@link loadWithAdapter}). */
export class MorModelForSequenceClassification {
  /** Loads the model and attaches `options.adapter`. */
  static from_pretrained(modelId: string, options: LoadWithAdapterOptions = {}): Promise<PreTrainedModel> {
    return loadWithAdapter(AutoModelForSequenceClassification, modelId, options);
  }
}

/**
 * transformers.js' `pipeline(task, modelId, options)` with an adapter attached to the pipeline's model.
 *
 * @example
 * const generator = await pipelineWithAdapter('text-generation', 'tiny-llama-kv', { adapter: './my-adapter' });
 * const [{ generated_text }] = await generator('The small dog', { max_new_tokens: 12, do_sample: false });
 */
export function pipelineWithAdapter<T extends PipelineType>(
  task: T,
  modelId: string,
  options: LoadWithAdapterOptions = {},
): Promise<AllTasks[T]> {
  return load(
    (o) => pipeline(task, modelId, o) as Promise<AllTasks[T]>,
    options,
    (p) => (p as unknown as { model: PreTrainedModel }).model,
  );
}
