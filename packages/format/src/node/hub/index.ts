// Node-only Hub helpers: push an adapter directory, pull a repository into one.
export { pullAdapter, type PullAdapterOptions, type PullAdapterResult } from './pull-adapter.js';
export { pushAdapter, type PushAdapterOptions } from './push-adapter.js';
