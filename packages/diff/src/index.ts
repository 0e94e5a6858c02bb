// @kfm/diff: pure functions from baselines, run observations and a declaration to the diff artifacts —
// summary.json (declared vs observed), touched.csv and the graph temporal diff. No I/O, no store
// knowledge: every store's vocabulary (dimensions, limits, protected keys) comes from its adapter.
export {
  diffBaselines,
  countDeltas,
  compareText,
  touchedWithData,
  type BaselineDiff,
  type CountDelta,
  type DiffTotals,
} from './baseline-diff.js';
export { evaluate, type Observed } from './evaluate.js';
export { measureLimit, measureSource, type MeasureInput } from './limit-measures.js';
export { mergeProtected, protectedPatterns, type ProtectedHit } from './protected-check.js';
export { renderTouchedCsv, csvCell, type TouchedSource } from './touched-csv.js';
export { temporalDiff, type TemporalDiff } from './temporal-diff.js';
export { formatSummary } from './format-summary.js';
