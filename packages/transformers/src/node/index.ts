// Node-only entry of @mor/transformers: model directories on disk (load, merge, generate, classify) and the
// helpers the `mor` command line is built from. Importing it registers the Node platform (@mor/engine/node).
import '@mor/engine/node';
export {
  loadModel,
  taskFromConfig,
  type LoadModelOptions,
  type LoadedModel,
  type ModelTask,
} from './load-model.js';
export { resolveModelSource, useModelSource, readModelConfig, type ModelSource } from './model-source.js';
export { loadTokenizer } from './load-tokenizer.js';
export { generateText, type GenerateTextOptions, type GeneratedText } from './generate-text.js';
export { classifyText, type ClassifyTextOptions, type Classification } from './classify-text.js';
export {
  mergeAdapterIntoModelDir,
  type MergeAdapterIntoModelDirOptions,
  type MergeResult,
} from './merge-adapter-into-model-dir.js';
export { writeDirAtomic, checkOutputDir, type WriteDirAtomicOptions } from './atomic-dir.js';
export { writeModelFiles } from './write-model-files.js';
export { listOnnxModelFiles, DTYPE_SUFFIXES, type OnnxModelFile } from './onnx-model-files.js';
