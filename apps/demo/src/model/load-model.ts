import {
  AutoModelForCausalLM,
  AutoTokenizer,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import { loadWithAdapter, type ModelWithSessions } from '@mor/transformers';
import type { BackendChoice, DemoBackend } from '../runtime/backend.js';
import { baseModelSource, type BaseModelSource } from './base-model-source.js';
import { configureTransformersEnv, isBundledModel } from '../runtime/configure-env.js';

/** A loaded causal LM with its tokenizer. */
export interface LoadedModel {
  modelId: string;
  /**
   * The transformers.js dtype loaded: `fp32` (onnx/model.onnx), `q4` (onnx/model_q4.onnx, 4-bit MatMulNBits) or
   * `q4f16` (onnx/model_q4f16.onnx: 4-bit weights, float16 activations and scales).
   */
  dtype: DemoDtype;
  model: PreTrainedModel;
  tokenizer: PreTrainedTokenizer;
  backend: DemoBackend;
  /** The base ONNX graph transformers.js loaded (for the training engine). */
  base: BaseModelSource;
}

/** The dtypes the page offers. */
export const DEMO_DTYPES = ['fp32', 'q4', 'q4f16'] as const;
export type DemoDtype = (typeof DEMO_DTYPES)[number];

/** A `<select>`/URL value as a dtype the page offers; anything else is fp32. */
export function parseDemoDtype(value: string | null): DemoDtype {
  return (DEMO_DTYPES as readonly string[]).includes(value ?? '') ? (value as DemoDtype) : 'fp32';
}

/**
 * Why `dtype` cannot run on `backend` here, or null. float16 graphs need WebGPU's `shader-f16` feature
 * (SwiftShader, the software adapter, has none); on WASM onnxruntime computes float16 through casts.
 */
export function dtypeUnsupported(dtype: DemoDtype, backend: BackendChoice): string | null {
  if (dtype !== 'q4f16' || backend.backend !== 'webgpu' || backend.shaderF16) return null;
  return "q4f16 needs WebGPU's shader-f16 feature, which this GPU adapter lacks: choose q4 or fp32, or open the page with ?backend=wasm";
}

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  modelId: string;
  /** Default fp32. */
  dtype?: DemoDtype;
  backend: DemoBackend;
  /** Progress text for the status line. */
  onProgress?: (text: string) => void;
}

interface ProgressInfo {
  status?: string;
  file?: string;
  progress?: number;
}

/**
 * Loads a model through `@mor/transformers`' `loadWithAdapter` without an adapter: it records the ONNX bytes and
 * session options transformers.js used, which `attachAdapter` needs later to rebuild the session with the
 * adapter branch. Bundled ids load from this page; anything else goes to the Hub (online only).
 */
export async function loadModel(options: LoadModelOptions): Promise<LoadedModel> {
  const { modelId, backend, onProgress } = options;
  const dtype = options.dtype ?? 'fp32';
  configureTransformersEnv({ allowRemote: !isBundledModel(modelId) });
  const progress_callback = (info: ProgressInfo) => {
    if (info.status === 'progress' && info.file)
      onProgress?.(`${info.file}: ${Math.round(info.progress ?? 0)}%`);
  };
  const tokenizer = await AutoTokenizer.from_pretrained(modelId, { progress_callback });
  const model = await loadWithAdapter(AutoModelForCausalLM, modelId, {
    dtype,
    device: backend,
    progress_callback,
  });
  const base = await baseModelSource(model as unknown as ModelWithSessions);
  return { modelId, dtype, model, tokenizer, backend, base };
}
