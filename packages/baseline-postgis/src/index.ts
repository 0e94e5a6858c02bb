// @kfm/baseline-postgis: PostGIS baseline capture, static preflight of SQL scripts, and the
// PostgreSQL StoreAdapter (advisory lock, ledger, transactional apply with scope enforced before commit).
export { postgisAdapter, postgisVocabulary, sqlLanguage, PostgisSession } from './adapter.js';
export {
  capturePostgisBaseline,
  createCaptureCache,
  type CaptureCache,
  type PostgisBaselineOptions,
} from './capture.js';
export { preflightPostgis, type PostgisPreflightOptions } from './preflight.js';
export { loadNameCatalog, type NameCatalog } from './resolve.js';
export { splitScript, splitScripts, type ParsedStatement, type ParseFailure, type SplitResult } from './statements.js';
export { statementFacts, type NamedObject, type StatementFacts } from './statement-facts.js';
export { spatialType } from './catalog-objects.js';
export { LEDGER_SCHEMA, LEDGER_MIGRATIONS_DIR, ensureLedger } from './ledger.js';
export { LOCK_KEYS } from './lock.js';
export { DEFAULT_LOCK_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT, rowCounters, dataChangesSince } from './apply.js';
export { tableAliases } from './scope.js';
export {
  SCRATCH_PREFIX,
  createScratchDatabase,
  databaseOf,
  dropScratchDatabase,
  postgisRehearsal,
  withDatabase,
  type ScratchOptions,
} from './rehearsal.js';
