export * from './types.js';
export { buildLexicon, isSimpleWord, partsOfSpeech, type Lexicon, type Sense } from './lexicon.js';
export { antonymItem } from './antonym.js';
export { hypernymItem } from './hypernym.js';
export { synonymItem } from './synonym.js';
export { wordForItem, MAX_GLOSS_CHARS } from './word-for.js';
export { partOfSpeechItem } from './part-of-speech.js';
export { glossPosItem } from './gloss-pos.js';
export { splitOf, mentionsEvalWord, trainSafe, DEFAULT_FRACTIONS, type SplitFractions } from './split.js';
export {
  buildTasks,
  itemRow,
  classificationRow,
  type BuildTasksOptions,
  type TaskSplits,
} from './build-tasks.js';
export {
  normalizeAnswer,
  isCorrect,
  scoreByTask,
  meanAccuracy,
  type Prediction,
  type TaskScore,
} from './score.js';
