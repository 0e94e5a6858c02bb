// @kfm/runner: the store-agnostic lifecycle (plan, apply, rollback), the CI gates and the
// adapter registry. The kfm-migrate CLI (cli.ts) is a thin layer over these.
export { registerAdapter, adapterFor, registeredTypes } from './adapters.js';
export { applyBundle } from './apply.js';
export { rollbackBundle, verifyRestored, latestAppliedPre } from './rollback.js';
export { planBundle } from './plan.js';
export { rehearseBundle, rehearseRegistered, type CiRehearsal, type RehearsalResult, type RehearsalStage } from './rehearse.js';
export { verifyChainDirectory, type ChainCheckResult } from './chain.js';
export { runCi, type CiFinding, type CiResult } from './ci.js';
export { validatePaths, diffFiles, verifyTarget, captureStoreBaseline, storeStatus, discoverBundles, type ValidateResult } from './commands.js';
export { scaffoldBundle, nextMigrationId, type ScaffoldResult } from './scaffold.js';
export { createReporter, silentReporter, type Reporter } from './progress.js';
export { effectiveProtected, governanceGates, loadPolicy } from './policy.js';
export { appendStatus, findMigrationsRoot, loadRegistry } from './migrations-registry.js';
export type { RunOptions, RunResult, EnvironmentName } from './run-context.js';
