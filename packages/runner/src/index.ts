// @kfm/runner: the store-agnostic lifecycle (plan, apply, rollback, rehearse), the gates (verify, ci),
// the registry (approvals, statuses), administrative runs (policy, unlock) and the adapter registry.
// The kfm-migrate CLI (cli.ts) is a thin layer over these.
export {
  registerAdapter,
  registerAdapterLoader,
  adapterFor,
  loadAdapter,
  registeredTypes,
  type AdapterLoader,
} from './adapters.js';
export { applyBundle } from './apply.js';
export { rollbackBundle } from './rollback.js';
export { verifyRestored } from './restore.js';
export { planBundle } from './plan.js';
export { buildReport, renderHtml, renderMarkdown, reportBundle, type ReportModel } from './report.js';
export { lintBundles, type LintResult, type LintedBundle } from './lint.js';
export {
  rehearseBundle,
  rehearseRegistered,
  type CiRehearsal,
  type RehearsalResult,
  type RehearsalStage,
} from './rehearse.js';
export {
  verifyTarget,
  verifyChainDirectory,
  compareWithStore,
  trustedKeys,
  type VerifyOptions,
  type VerifyOutcome,
  type LedgerComparison,
  type ChainCheckResult,
} from './verify.js';
export { runCi, bundleDirectories, type CiFinding, type CiResult } from './ci.js';
export { validatePaths, diffFiles, captureStoreBaseline, discoverBundles, type ValidateResult } from './commands.js';
export { storeStatus, type StatusResult, type BundleStatus } from './status.js';
export { approveBundle, markBundle, type ApprovalResult } from './approvals.js';
export { pushPolicy, showPolicy, unlockStore, type AdminResult, type AdminOptions } from './admin.js';
export { scaffoldBundle, nextMigrationId, type ScaffoldResult } from './scaffold.js';
export { prepareBundle, type PreparedBundle } from './bundle.js';
export { createReporter, silentReporter, type Reporter } from './progress.js';
export { combinePolicies, loadRepositoryPolicy, timeoutIssues } from './policy.js';
export { governanceGates, approvalsFor } from './registry-gates.js';
export { appendStatus, findMigrationsRoot, loadRegistry, updateRegistry } from './migrations-registry.js';
export type { RunOptions, RunResult, EnvironmentName } from './run-context.js';
