// Stable error codes and the exit codes of the kfm-migrate contract. Expected failures are values
// (`Issue`s inside results); `KfmError` is only thrown for faults the CLI maps to an exit code.

/** Exit codes of DESIGN.md: the CLI's only contract with scripts. */
export const ExitCode = {
  Passed: 0,
  CheckFailed: 1,
  InvalidInput: 2,
  Unreachable: 3,
  RollbackFailed: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Every stable code, with the exit code it maps to and a one-line meaning (rendered in the README). */
export const ErrorCodes = {
  // Input: declarations, artifacts, arguments (exit 2)
  FILE_NOT_FOUND: [2, 'A file the command or declaration names does not exist.'],
  FILE_TOO_LARGE: [2, 'A declaration or artifact is larger than the size cap.'],
  ENCODING_INVALID: [2, 'A declaration, script or artifact is not valid UTF-8.'],
  SECRET_IN_INPUT: [
    2,
    'A declaration or script holds a secret, a DSN with credentials or restricted coordinates (found before any store is touched).',
  ],
  SCRIPT_EMPTY: [2, 'A forward script holds no statement (empty or comments only).'],
  SCRIPT_PARSE: [2, 'A forward or rollback script does not parse (caught before the store is touched).'],
  POLICY_LIMIT: [2, 'A declared value is outside what the policy allows (e.g. a lock_timeout above its maximum).'],
  YAML_SYNTAX: [2, 'The YAML (or JSON) document does not parse.'],
  YAML_DUPLICATE_KEY: [2, 'A mapping has the same key twice.'],
  YAML_ALIAS_LIMIT: [2, 'Too many alias expansions (billion-laughs protection).'],
  YAML_CUSTOM_TAG: [2, 'A custom YAML tag (e.g. !!js/function) is not allowed.'],
  YAML_MULTI_DOCUMENT: [2, 'The file holds more than one YAML document.'],
  SCHEMA_REQUIRED: [2, 'A required field is missing.'],
  SCHEMA_TYPE: [2, 'A field has the wrong type.'],
  SCHEMA_ENUM: [2, 'A field is not one of the allowed values.'],
  SCHEMA_CONST: [2, 'A field does not have its fixed value.'],
  SCHEMA_PATTERN: [2, 'A string does not match its required pattern.'],
  SCHEMA_UNKNOWN_FIELD: [2, 'A field is not part of the schema.'],
  SCHEMA_MINIMUM: [2, 'A number is below its minimum (e.g. a negative limit).'],
  SCHEMA_MAXIMUM: [2, 'A number is above its maximum (e.g. a limit that is not a safe integer).'],
  SCHEMA_LENGTH: [2, 'A string or array is too short or too long.'],
  SCHEMA_UNIQUE: [2, 'An array holds the same item twice.'],
  SCHEMA_FORMAT: [2, 'A string is not in its required format (date-time, uri).'],
  SCHEMA_INVALID: [2, 'The value does not satisfy the schema.'],
  LIMIT_UNKNOWN: [2, 'A limit name is not defined for this store type.'],
  SCOPE_KEY_NOT_FOR_TYPE: [2, 'A scope key belongs to another store type.'],
  MIGRATION_ID_TYPE_MISMATCH: [2, "The migration_id's prefix does not agree with `type`."],
  SCOPE_ALLOWED_AND_FORBIDDEN: [2, 'The same name is both allowed and forbidden.'],
  ROLLBACK_ARTIFACT_MISSING: [2, 'requires_rollback is true but no rollback script is present.'],
  IRREVERSIBLE_WITHOUT_APPROVAL: [2, 'requires_rollback is false without approvals.irreversibility_ref.'],
  NON_TRANSACTIONAL_WITHOUT_ROLLBACK: [
    2,
    'transactional: false needs requires_rollback: true: the rollback script is the safety net.',
  ],
  IRREVERSIBLE_WITHOUT_NOTES: [2, 'requires_rollback is false without a notes.md safety strategy.'],
  ARTIFACT_MISSING: [2, 'An artifact the declaration names is not in the bundle.'],
  ARTIFACT_PATH_ABSOLUTE: [2, 'An artifact path is absolute.'],
  ARTIFACT_PATH_TRAVERSAL: [2, 'An artifact path leaves the bundle with `..`.'],
  ARTIFACT_PATH_SYMLINK_ESCAPE: [2, 'An artifact is a symlink that resolves outside the bundle.'],
  SECRET_IN_DECLARATION: [2, 'The declaration holds a credential or connection string instead of a variable name.'],
  ARGUMENT_INVALID: [2, 'A command-line argument is invalid.'],
  REGISTRY_INVALID: [2, 'The migrations registry is invalid or inconsistent.'],
  // Governed checks (exit 1)
  SCOPE_FORBIDDEN: [1, 'An observed change touches a forbidden name (forbidden beats allowed).'],
  SCOPE_NOT_ALLOWED: [1, 'An observed change touches a name no allowed_* entry covers.'],
  LIMIT_EXCEEDED: [1, 'An observed measure exceeds its declared limit.'],
  PROTECTED_DOMAIN_CHANGED: [1, 'A protected domain changed without approvals.exception_ref.'],
  INVARIANT_FAILED: [1, 'A store invariant (spatial index, provenance, …) does not hold after the change.'],
  PREFLIGHT_FORBIDDEN: [1, 'The forward script names a forbidden object (caught before the store is touched).'],
  PREFLIGHT_NON_TRANSACTIONAL: [1, 'A statement cannot run in a transaction but the declaration is transactional.'],
  PREFLIGHT_PARSE: [1, 'The forward script does not parse.'],
  STATEMENT_FAILED: [1, 'A forward statement failed at run time; the store was left at PRE.'],
  POLICY_ENV_APPROVAL: [1, '--env prod needs --approval REF.'],
  POLICY_APPROVAL: [
    1,
    'The environment needs approvals that name the current bundle digest (and, for prod, a recorded --approval REF and an earlier stage run).',
  ],
  POLICY_SIGNATURE_REQUIRED: [2, 'The policy requires signed receipts and no signing key was given.'],
  RECEIPT_UNSIGNED: [
    1,
    'A receipt is unsigned, or signed by a key the policy does not trust, while the policy requires signatures.',
  ],
  EVIDENCE_MISMATCH: [1, "A file at a conventional or declared evidence path differs from the latest run's copy."],
  EVIDENCE_STALE: [1, 'A file at an evidence path exists although the latest run did not produce it.'],
  EVIDENCE_MISSING: [1, 'The registry says the bundle ran, but its evidence (receipts) is missing.'],
  CHAIN_BROKEN: [1, "A store's receipt chain is broken: a receipt was removed, edited or re-digested."],
  LEDGER_MISMATCH: [
    1,
    "The bundle's receipts and the store's ledger disagree (truncated, re-digested or swapped evidence).",
  ],
  DRIFT_DETECTED: [
    1,
    'The objects the apply touched no longer match its POST baseline; rollback refused before changing anything.',
  ],
  INCOMPLETE_RUN: [1, 'An earlier non-transactional run started and never finished; roll it back first.'],
  ROLLBACK_PENDING: [1, 'An earlier rollback failed; fix the rollback script and run `kfm-migrate rollback` again.'],
  LEASE_LOST: [1, 'The run lost its store lease before its commit point and stopped.'],
  LOCK_NOT_AVAILABLE: [1, 'A statement could not get its lock in time, on every attempt; nothing was committed.'],
  PREFLIGHT_UNPROVABLE: [
    1,
    'A statement cannot be proven to stay in scope before it runs (dynamic names, role switches, out-of-transaction channels).',
  ],
  LINT_ERROR: [1, 'A lock-hazard lint rule with severity error fired.'],
  DATA_OUT_OF_SCOPE: [1, 'The run wrote data that cannot be attributed to the declared scope.'],
  POLICY_SCAN_HIT: [1, 'An artifact would contain a secret, a DSN with credentials or restricted coordinates.'],
  LOCK_HELD: [1, 'Another run holds the store lock (its lease has not expired).'],
  LEDGER_ALREADY_APPLIED: [1, 'This migration id is already applied to the store.'],
  LEDGER_DRIFT: [1, 'The forward script changed after it was applied.'],
  LEDGER_NOT_APPLIED: [1, 'Rollback asked for a migration that is not applied.'],
  RECEIPT_DIGEST_MISMATCH: [1, 'A file no longer has the digest its receipt records.'],
  RECEIPT_FILE_MISSING: [1, 'A file a receipt names is missing.'],
  DIFF_SCOPE_MISMATCH: [1, 'A committed diff summary disagrees with its declaration.'],
  REGISTRY_MISMATCH: [1, 'A bundle is not registered, or a registry entry has no bundle.'],
  // Infrastructure (exit 3)
  ENV_MISSING: [3, 'A connection variable the declaration names is not set.'],
  STORE_UNREACHABLE: [3, 'The store could not be reached.'],
  // Rollback (exit 4)
  ROLLBACK_FAILED: [4, 'The rollback script failed; a human must look.'],
  ROLLBACK_UNVERIFIED: [4, 'After rollback the schema fingerprint differs from PRE.'],
} as const satisfies Record<string, readonly [ExitCode, string]>;

export type ErrorCode = keyof typeof ErrorCodes;

export function exitCodeOf(code: ErrorCode): ExitCode {
  return ErrorCodes[code][0];
}

/** One finding: where it is, what was expected and what was found. Never holds a secret value. */
export interface Issue {
  code: ErrorCode;
  message: string;
  file?: string;
  line?: number;
  column?: number;
  /** RFC 6901 JSON pointer into the document. */
  pointer?: string;
  expected?: string;
  found?: string;
}

/** `file:line:col pointer CODE message (expected …, found …)` — one line per issue. */
export function formatIssue(issue: Issue): string {
  const where = issue.file
    ? `${issue.file}${issue.line ? `:${issue.line}${issue.column ? `:${issue.column}` : ''}` : ''}`
    : '';
  const parts = [where, issue.pointer !== undefined ? `${issue.pointer || '/'}` : '', issue.code, issue.message].filter(
    Boolean,
  );
  const detail = [issue.expected ? `expected ${issue.expected}` : '', issue.found ? `found ${issue.found}` : '']
    .filter(Boolean)
    .join(', ');
  return parts.join(' ') + (detail ? ` (${detail})` : '');
}

/** The most severe exit code among issues (4 > 3 > 1 > 2 > 0: a broken store outranks bad input). */
export function exitCodeFor(issues: readonly Issue[]): ExitCode {
  const rank: Record<ExitCode, number> = { 0: 0, 2: 1, 1: 2, 3: 3, 4: 4 };
  let worst: ExitCode = ExitCode.Passed;
  for (const issue of issues) {
    const code = exitCodeOf(issue.code);
    if (rank[code] > rank[worst]) worst = code;
  }
  return worst;
}

/** Thrown for faults, not findings; carries the stable code so the CLI can map it to an exit code. */
export class KfmError extends Error {
  readonly code: ErrorCode;
  readonly issue: Issue;
  constructor(issue: Issue, options?: { cause?: unknown }) {
    super(formatIssue(issue), options);
    this.name = 'KfmError';
    this.code = issue.code;
    this.issue = issue;
  }
  get exitCode(): ExitCode {
    return exitCodeOf(this.code);
  }
}
