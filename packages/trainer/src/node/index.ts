// Node-only entry of @mor/trainer: data files, model directories, checkpoints, the `trainAdapter` run and router
// statistics over a data file. Importing it registers the Node platform (@mor/engine/node).
import '@mor/engine/node';
export {
  trainAdapter,
  TRAIN_LOCK_FILE,
  type TrainAdapterHooks,
  type TrainAdapterResult,
} from './train-adapter.js';
export { checkpointsToDelete, rotateCheckpoints } from './rotate-checkpoints.js';
export type { TrainAdapterOptions } from './training-settings.js';
export { evaluateDataFile, type EvaluateDataFileOptions } from './evaluate-data-file.js';
export { readDataFile, type DataFile } from './read-data-file.js';
export { openTrainingModel, type TrainingModel } from './open-training-model.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  checkpointDir,
  OPTIMIZER_FILE,
  PARAMS_FILE,
  TRAINER_STATE_FILE,
  type Checkpoint,
  type TrainerState,
} from './checkpoint.js';
export { buildTrainingSummary, writeTrainingSummary } from './training-summary.js';
export { initAdapterDir, type InitAdapterDirOptions } from './init-adapter-dir.js';
export { writeFullModelDir, setInitializers, type TrainedParams } from './full-model-dir.js';
export { lockDir, DirLockedError, type DirLock, type LockDirOptions } from './dir-lock.js';
export {
  routerStatistics,
  type RouterStatisticsOptions,
  type RouterStatistics,
} from './router-statistics.js';
export { readTokenRows, type ReadTokenRowsOptions } from './read-token-rows.js';
export { saveStaticGate } from './save-static-gate.js';
