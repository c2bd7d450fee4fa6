export {
  runTarget,
  replayInput,
  ALLOCATION_SLACK_BYTES,
  type TargetSummary,
  type FailureRecord,
} from './run.js';
export { TARGETS, findTarget } from './targets/index.js';
export { classify, type Outcome, type ErrorClass } from './oracle.js';
export { drawInput, inputSeed } from './seeded.js';
export type { FuzzTarget } from './target.js';
