// Node-only Hub helpers: push an adapter directory, pull a repository (or chosen files of one) into one.
export { pullAdapter, type PullAdapterOptions, type PullAdapterResult } from './pull-adapter.js';
export { pushAdapter, type PushAdapterOptions } from './push-adapter.js';
export {
  pullRepoFiles,
  PULL_MANIFEST_FILE,
  type PullRepoFilesOptions,
  type PullRepoFilesResult,
} from './pull-repo-files.js';
