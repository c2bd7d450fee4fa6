// Side effect: registers the Node platform (files, devices, onnxruntime-node) with the browser-safe code.
import { readModelFile } from '@mor/onnx/node';
import { registerPlatform, type MorPlatform } from '../platform.js';
import { loadAdapterDir } from './load-adapter-dir.js';
import { missingCudaProvider, prepareDawnEnvironment, requireTransformersOrtNode } from './ort-node.js';
import { openThroughTempDir, stageModelFiles } from './temp-model-files.js';

/** The Node platform: what `@mor/engine/node` registers. */
export const nodePlatform: MorPlatform = {
  name: 'node',
  ort: requireTransformersOrtNode,
  openThroughFiles: openThroughTempDir,
  stageModelFiles,
  prepareDevice(device) {
    if (device === 'webgpu') prepareDawnEnvironment();
    return device === 'cuda' ? missingCudaProvider() : null;
  },
  loadAdapterDir,
  readModelFile,
};

registerPlatform(nodePlatform);
