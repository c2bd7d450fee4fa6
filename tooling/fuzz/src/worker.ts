// Worker-thread entry: runs one target and reports to bin/fuzz.mjs. The heartbeat (the index being run, in
// shared memory) lets the main thread stop a worker stuck in one input and name that input.
import { parentPort, workerData } from 'node:worker_threads';
import { runTarget, type RunOptions } from './run.js';
import { findTarget } from './targets/index.js';

interface WorkerInput extends Omit<RunOptions, 'onInput' | 'onProgress'> {
  target: string;
  heartbeat: SharedArrayBuffer;
}

const data = workerData as WorkerInput;
const beat = new Int32Array(data.heartbeat);
const summary = await runTarget(findTarget(data.target), {
  ...data,
  onInput: (index) => Atomics.store(beat, 0, index),
  onProgress: (s) => parentPort!.postMessage({ type: 'progress', summary: s }),
});
parentPort!.postMessage({ type: 'done', summary });
