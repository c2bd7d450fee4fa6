import type { FuzzTarget } from '../target.js';
import { adapterConfigTarget, adapterTarget } from './adapter.js';
import { hubTarget } from './hub.js';
import { jsonlTarget } from './jsonl.js';
import { modelConfigTarget, tokenizerTarget } from './model-files.js';
import { onnxTarget } from './onnx.js';
import { safetensorsTarget } from './safetensors.js';

/** Every target, in the order the summary lists them. */
export const TARGETS: readonly FuzzTarget[] = [
  safetensorsTarget,
  adapterConfigTarget,
  adapterTarget,
  jsonlTarget,
  onnxTarget,
  modelConfigTarget,
  tokenizerTarget,
  hubTarget,
];

export function findTarget(name: string): FuzzTarget {
  const t = TARGETS.find((x) => x.name === name);
  if (!t)
    throw new Error(
      `unknown target ${JSON.stringify(name)} (targets: ${TARGETS.map((x) => x.name).join(', ')})`,
    );
  return t;
}
