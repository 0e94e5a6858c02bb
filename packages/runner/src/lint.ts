// `kfm-migrate lint BUNDLE...`: the store's lint alone, before review. With the store reachable (its
// connection variables set), a session's preflight lints with the live catalog's sizes; without one, the
// adapter's static lint runs and size-dependent findings say that sizes are unknown. Nothing is changed.
import { ExitCode, exitCodeFor, type Issue, type LintFinding } from '@kfm/migration-contracts';
import { prepareBundle } from './bundle.js';
import { resolveConnection } from './connection.js';

export interface LintedBundle {
  bundle: string;
  migration_id: string;
  type: string;
  /** Where sizes came from: the live store, or nowhere (static). */
  sizes: 'store' | 'unknown';
  /** Why the store was not used, when it was not. */
  note?: string;
  findings: LintFinding[];
}

export interface LintResult {
  status: 'passed' | 'failed';
  exit_code: ExitCode;
  issues: Issue[];
  bundles: LintedBundle[];
}

/** A blocking finding: severity error and no ignore comment. */
export const blocking = (finding: LintFinding) => finding.severity === 'error' && !finding.ignored;

export async function lintBundles(
  paths: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<LintResult> {
  const issues: Issue[] = [];
  const bundles: LintedBundle[] = [];
  for (const target of paths) {
    const prepared = await prepareBundle(target);
    if (!prepared.ok) {
      issues.push(...prepared.issues);
      continue;
    }
    const { bundle } = prepared;
    const { declaration } = bundle.loaded;
    const policy = bundle.repositoryPolicy?.policy.lint;
    const entry: LintedBundle = {
      bundle: target,
      migration_id: declaration.migration_id,
      type: declaration.type,
      sizes: 'unknown',
      findings: [],
    };
    const connection = resolveConnection(bundle.adapter, declaration, env);
    if (connection.ok) {
      try {
        const session = await bundle.adapter.connect(connection.values, { applicationName: 'kfm-migrate lint' });
        try {
          const result = await session.preflight(bundle.forward, declaration, {
            ...(declaration.protected ? { protected: declaration.protected } : {}),
            ...(policy ? { lint: policy } : {}),
          });
          entry.findings = result.lint ?? [];
          entry.sizes = 'store';
        } finally {
          await session.close();
        }
      } catch (error) {
        entry.note = `store not used: ${error instanceof Error ? error.message : String(error)}`;
      }
    } else {
      entry.note = 'no connection variables set';
    }
    if (entry.sizes === 'unknown') {
      if (bundle.adapter.language.lint)
        entry.findings = await bundle.adapter.language.lint(bundle.forward, declaration, policy);
      else entry.note = `${entry.note ?? ''}; the ${declaration.type} adapter has no linter`.replace(/^; /, '');
    }
    bundles.push(entry);
  }
  const failing = bundles.some((entry) => entry.findings.some(blocking));
  const exit = issues.length ? exitCodeFor(issues) : failing ? ExitCode.CheckFailed : ExitCode.Passed;
  return { status: exit === ExitCode.Passed ? 'passed' : 'failed', exit_code: exit, issues, bundles };
}
