export * from './schema.js';
export {
  meanStd,
  summarizeResults,
  resultsTable,
  type MeanStd,
  type MethodSummary,
  type TimedResult,
} from './aggregate.js';
export { mutualInformation, entropy } from './mutual-information.js';
export { scatterSvg, heatmapSvg, type ScatterSeries } from './svg.js';
export { matchedLoraRank } from './matched-rank.js';
export { RunCache, fileDigest, fingerprint, stableJson, type RunRecord } from './run-cache.js';
