// Node-only entry of @mor/transformers: model directories on disk (load, merge, router statistics) and the
// helpers the `mor` command line is built from. Importing it registers the Node platform (node/platform.ts).
export { nodePlatform } from './platform.js';
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
export { lockDir, DirLockedError, type DirLock, type LockDirOptions } from './dir-lock.js';
export { listOnnxModelFiles, DTYPE_SUFFIXES, type OnnxModelFile } from './onnx-model-files.js';
export {
  routerStatistics,
  type RouterStatisticsOptions,
  type RouterStatistics,
} from './router-statistics.js';
export { readTokenRows, type ReadTokenRowsOptions } from './read-token-rows.js';
export { saveStaticGate } from './save-static-gate.js';
export { loadAdapterDir } from './load-adapter-dir.js';
export * from '../trainer/node/index.js';
