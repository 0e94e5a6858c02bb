// @kfm/baseline-graph: Neo4j baseline capture (computed in the database), static preflight of
// Cypher scripts, and the graph StoreAdapter (KfmLock node, KfmLedger, data rewrites in one
// transaction with scope enforced before commit; schema commands in auto-commit + verified rollback).
export {
  graphAdapter,
  createGraphAdapter,
  graphVocabulary,
  cypherLanguage,
  GraphSession,
  type GraphAdapterOptions,
} from './adapter.js';
export { captureGraphBaseline, type GraphBaselineOptions, type GraphCaptureTarget } from './capture.js';
export { connectNeo4j, endpointOf, type Connected } from './connection.js';
export { rows, stream, type CypherRunner, type Row } from './cypher-runner.js';
export { lexCypher, type LexResult, type Token, type TokenKind } from './cypher-lexer.js';
export { splitCypher, type CypherSplit, type CypherStatement } from './cypher-split.js';
export { statementFacts, type StatementFacts, type StatementKind } from './statement-facts.js';
export { preflightGraph, splitScripts, type ScriptSplit, type ScriptStatement } from './preflight.js';
export { applyForward, applyRollback, type GraphRunContext } from './apply.js';
export { RunMetrics } from './run-metrics.js';
export {
  captureShape,
  degreeBucket,
  type GraphShape,
  type LabelShape,
  type RelationshipTypeShape,
} from './graph-structure.js';
export { schemaObjects, schemaIdentity, CONSTRAINTS_QUERY, INDEXES_QUERY } from './schema-catalog.js';
export {
  protectedLabelContent,
  resolveProtectedLabels,
  type ProtectedLabel,
  type ProtectedLabelContent,
} from './protected-content.js';
export { invariantChecks } from './graph-invariants.js';
export { inScope, isReserved, quoteName, RESERVED_PREFIX, type GraphScopeOptions } from './scope.js';
export { readLedgerHistory, readLedgerState, recordLedgerEntry } from './ledger.js';
export { DEFAULT_LOCK_ID, GraphLeaseStore, graphLock } from './lock.js';
export { ensureRunnerSchema, LEDGER_LABEL, LOCK_LABEL, POLICY_LABEL } from './runner-store.js';
export { toPlain, type Plain } from './neo4j-values.js';
