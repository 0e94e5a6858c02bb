// @kfm/migration-contracts: the one package every other package imports its types from.
export type {
  Baseline,
  BaselineObject,
  Check,
  DataChange,
  DiffChange,
  DiffSummary,
  FileDigest,
  LintFinding,
  MigrationDeclaration,
  MigrationsRegistry,
  Plan,
  Policy,
  ProtectedDomains,
  ReceiptRef,
  RunReceipt,
} from './generated/types.js';
export { schemasByName } from './generated/schemas.js';
export {
  ErrorCodes,
  ExitCode,
  KfmError,
  exitCodeFor,
  exitCodeOf,
  formatIssue,
  type ErrorCode,
  type Issue,
} from './errors.js';
export { parseJson, parseYaml, decodePointer, encodePointer, decodeText, type ParsedDocument } from './document.js';
export { vocabularyIssues, type Locate } from './vocabulary.js';
export { validateValue, schemaId, schemaNames, describe, looksLikeCredential, type SchemaName } from './validate.js';
export {
  DECLARATION_FILE,
  loadArtifact,
  loadDeclaration,
  type DeclarationResult,
  type LoadedDeclaration,
} from './declaration.js';
export { resolveInBundle, type ResolveResult } from './bundle-paths.js';
export { firstMatchingPattern, matchesNamePattern } from './name-pattern.js';
export { redactIssue } from './credentials.js';
export { ERROR_TABLE_END, ERROR_TABLE_START, renderErrorCodeTable } from './error-table.js';
export type * from './adapter.js';
