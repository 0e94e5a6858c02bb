// @kfm/adapter-kit: what every store adapter needs and should not write again — the statement run
// loop with its commit point, crash-safe leases, secret masking, and text and name helpers. Digest
// rules (fingerprints, CIDs) live in @kfm/receipts; the contract itself in @kfm/migration-contracts.
export { compareText, sortedUnique, sortedRecord, firstMatch, matchesAny, lineAndColumn, durationMs } from './text.js';
export { sanitizer, withoutUrls, errorText, type Sanitize } from './mask.js';
export { escapeCheck, type Escape } from './escape.js';
export {
  transactionGroups,
  runStatements,
  statementRuns,
  commitPoint,
  leaseIssue,
  leaseReason,
  type LoopStatement,
  type StatementGroup,
  type LoopFailure,
  type LoopOptions,
  type LoopOutcome,
  type CommitOutcome,
  type CommitSteps,
} from './run-loop.js';
export {
  LeaseLock,
  withBackoff,
  type LeaseRecord,
  type LeaseStore,
  type LeaseClock,
  type VersionedLease,
} from './lease.js';
