// @kfm/diff: pure functions from baselines and a declaration to the diff artifacts —
// summary.json (declared vs observed), touched.csv and the graph temporal diff. No I/O.
export { diffBaselines, countDeltas, compareText, type BaselineDiff, type CountDelta, type DiffTotals } from './baseline-diff.js';
export { evaluate, type EvaluateOptions, type Observed } from './evaluate.js';
export { LIMIT_MEASURES, type LimitMeasure, type MeasureInput, type MeasureTable } from './limit-measures.js';
export { SCOPE_DIMENSIONS, PROTECTED_DIMENSIONS, isBuiltInStoreType, type BuiltInStoreType } from './store-vocabulary.js';
export { mergeProtected, protectedPatterns, type ProtectedHit } from './protected-check.js';
export { renderTouchedCsv, csvCell, type TouchedSource } from './touched-csv.js';
export { temporalDiff, type TemporalDiff } from './temporal-diff.js';
export { formatSummary } from './format-summary.js';
