// Node-only entry of @mor/engine. Importing it registers the Node platform (node/platform.ts): onnxruntime-node
// as transformers.js loads it, the CUDA and Dawn checks, file-backed sessions, adapter directories and model files.
export { nodePlatform } from './platform.js';
export { loadAdapterDir } from './load-adapter-dir.js';
export { HUB_ID, hubEndpoint, notHereNorHubId, notHereNorOnHub, type SourceKind } from './not-here-error.js';
