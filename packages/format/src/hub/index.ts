// Hub push/pull of adapters through @huggingface/hub (browser-safe: bytes in, bytes out). The Node entry adds
// directory-based `pushAdapter` / `pullAdapter`.
export {
  fetchAdapterFiles,
  PULLED_FILES,
  type FetchAdapterFilesOptions,
  type FetchedAdapter,
  type PulledFile,
} from './fetch-adapter-files.js';
export { HubError, redactToken, type HubErrorContext, type HubErrorReason } from './hub-error.js';
export { checkRepoId, type HubConnectionOptions } from './hub-options.js';
export { MODEL_CARD_FILE, MODEL_CARD_TAGS, renderModelCard, type ModelCardOptions } from './model-card.js';
export {
  pushAdapterFiles,
  type AdapterFiles,
  type PushAdapterFilesOptions,
  type PushAdapterResult,
} from './push-adapter-files.js';
export { parseTrainingSummary, TRAINING_SUMMARY_FILE, type TrainingSummary } from './training-summary.js';
