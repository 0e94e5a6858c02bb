// @kfm/baseline-search: Elasticsearch baselines and the search StoreAdapter (shadow index + alias flip).
export {
  searchAdapter,
  createSearchAdapter,
  searchVocabulary,
  planLanguage,
  connectSearch,
  aliasLookup,
  SearchSession,
  type SearchConnectOptions,
} from './adapter.js';
export {
  captureSearchBaseline,
  captureWith,
  assembleBaseline,
  fetchCatalog,
  catalogFilter,
  isProtectedObject,
  RUNNER_INDEX,
  type BaselineParts,
  type SearchBaselineOptions,
  type SearchScopeOptions,
} from './capture.js';
export {
  catalogObjects,
  aliasObject,
  aliasObjectName,
  aliasDefinition,
  type AliasDefinition,
  type CatalogFilter,
  type CatalogResponses,
} from './catalog-objects.js';
export {
  normalizeSettings,
  normalizeTemplate,
  isVolatileSetting,
  flattenSettings,
  withoutTimestamps,
  analyzerDefinitions,
  type FlatSettings,
} from './normalize.js';
export {
  createSearchClient,
  describeError,
  safeHost,
  SearchResponseError,
  type SearchClient,
  type SearchEngine,
  type SearchRest,
  type RequestSpec,
  type ServerInfo,
  type ConnectOptions,
} from './es-client.js';
export {
  readPlan,
  namedIndices,
  namedObject,
  whereOf,
  type SearchOperation,
  type OperationKind,
  type LocatedOperation,
  type AliasAction,
  type ReindexBody,
  type PlanResult,
} from './operations.js';
export { preflightSearch, type AliasLookup, type SearchPreflightResult } from './preflight.js';
export { projectAliasActions, expectedAliasNames } from './alias-projection.js';
export { planInvariants } from './plan-invariants.js';
export { governedApply, runRollbackPlan, type ApplyContext } from './apply.js';
export { executeOperation, prepareUndo, type OperationOutcome, type Undo } from './execute.js';
export { runReindex, type ReindexResult, type Sleep } from './reindex.js';
export { SearchLeaseStore, searchLock, LOCK_ID, RUN_TAG } from './lock.js';
export { SearchLedger } from './ledger.js';
export { ensureRunnerIndex } from './runner-store.js';
