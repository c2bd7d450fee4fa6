// Node-only entry: file-system helpers around the browser-safe core of @mor/format.
export { loadAdapter } from './load-adapter.js';
export { saveAdapter, type SaveAdapterOptions } from './save-adapter.js';
export {
  writeFileAtomic,
  writeFilesAtomic,
  stageFile,
  type FileData,
  type StagedFile,
} from './write-file-atomic.js';
export { FileWriteError } from './file-write-error.js';
export * from './hub/index.js';
