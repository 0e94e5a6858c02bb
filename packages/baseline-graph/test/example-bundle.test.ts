// The example bundle migrations/graph/GRAPH-MIG-2026-03-06-01 run as the runner runs it: its
// declaration loads, its Cypher (moved into a test namespace) passes preflight, applies with the
// commit decision taken by @kfm/diff's evaluate, and its rollback restores the PRE fingerprint.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluate } from '@kfm/diff';
import {
  loadDeclaration,
  type Baseline,
  type DiffSummary,
  type MigrationDeclaration,
  type StoreSession,
} from '@kfm/migration-contracts';
import type { Driver } from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphAdapter, graphVocabulary } from '../src/index.js';
import { connection, countOf, namespaced, openDriver, runIdSuffix, script, testNamespace } from './neo4j-harness.js';

const BUNDLE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../migrations/graph/GRAPH-MIG-2026-03-06-01',
);
const ns = testNamespace();
const adapter = createGraphAdapter({ labelPrefix: ns.prefix, lockId: `test-${ns.prefix}` });
let driver: Driver;
let session: StoreSession;
let declaration: MigrationDeclaration;

/** The declaration with every seed name moved into the namespace. */
function inNamespace(value: MigrationDeclaration): MigrationDeclaration {
  // Its own migration id: the test's ledger entries must never mark the real bundle as applied.
  return {
    ...(JSON.parse(namespaced(JSON.stringify(value), ns)) as MigrationDeclaration),
    migration_id: 'GRAPH-MIG-2000-01-01-01',
  };
}

async function bundleScript(name: string) {
  return script(name, namespaced(await readFile(path.join(BUNDLE, name), 'utf8'), ns));
}

async function applyBundle(decl: MigrationDeclaration) {
  const baseline = { declaration: decl, protected: decl.protected ?? {}, capturedAt: '2026-03-06T00:00:00.000Z' };
  const pre = await session.captureBaseline(baseline);
  let summary: DiffSummary | undefined;
  const result = await session.apply({
    declaration: decl,
    scripts: [await bundleScript('forward.cypher')],
    transactional: decl.transactional !== false,
    baseline,
    ledger: {
      migration_id: decl.migration_id,
      bundle_digest: 'sha256:example',
      run_id: `${decl.migration_id}${runIdSuffix(ns)}`,
      status: 'applied',
    },
    decide: async ({ post, metrics }) => {
      summary = evaluate(decl, { pre, post, metrics, protected: decl.protected ?? {} }, graphVocabulary);
      return summary.status === 'pass';
    },
  });
  return { pre, result, summary };
}

async function rollbackAndVerify(decl: MigrationDeclaration, pre: Baseline) {
  expect(await session.runRollback([await bundleScript('rollback.cypher')], decl)).toMatchObject({ ok: true });
  const after = await session.captureBaseline({ declaration: decl, protected: decl.protected ?? {} });
  expect(after.fingerprints).toEqual(pre.fingerprints);
}

beforeAll(async () => {
  driver = openDriver();
  await ns.seed(driver);
  session = await adapter.connect(connection, { applicationName: 'baseline-graph example bundle test' });
  const loaded = await loadDeclaration(BUNDLE);
  if (!loaded.ok) throw new Error(`example bundle declaration is invalid: ${JSON.stringify(loaded.issues)}`);
  declaration = inNamespace(loaded.declaration);
});

afterAll(async () => {
  await session?.close();
  await ns.clear(driver);
  await driver?.close();
});

describe('GRAPH-MIG-2026-03-06-01', () => {
  it('passes preflight with the repository policy protecting AuthoritySite', async () => {
    const result = await session.preflight([await bundleScript('forward.cypher')], declaration, {
      protected: { labels: [{ label: ns.name('AuthoritySite'), key: 'site_id' }] },
    });
    expect(result.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(result.statements.map((s) => [s.kind, s.transactional])).toEqual([
      ['create_constraint', false],
      ['data', true],
    ]);
    expect(result.predicted).toEqual({
      labels: [ns.name('Owner'), ns.name('Parcel')],
      relationship_types: [ns.name('HAS_OWNER'), ns.name('OWNS')],
    });
  });

  it('commits within its declared scope and limits, then rolls back to the PRE fingerprint', async () => {
    const { pre, result, summary } = await applyBundle(declaration);
    expect(summary?.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(result.status).toBe('committed');
    expect(summary?.touched).toEqual({
      labels: [ns.name('Parcel')],
      relationship_types: [ns.name('HAS_OWNER'), ns.name('OWNS')],
    });
    expect(summary?.metrics).toMatchObject({ relationships_touched: 4400, nodes_touched: 0, constraints_added: 1 });
    expect(await countOf(driver, `MATCH ()-[r:\`${ns.name('HAS_OWNER')}\`]->() RETURN count(r) AS count`)).toBe(2200);
    await rollbackAndVerify(declaration, pre);
    expect(await countOf(driver, `MATCH ()-[r:\`${ns.name('OWNS')}\` {share: 0.5}]->() RETURN count(r) AS count`)).toBe(
      400,
    );
  });

  it('is refused when a limit is exceeded; the data never commits and the rollback restores PRE', async () => {
    const tight = { ...declaration, limits: { ...declaration.limits, max_relationships_touched: 100 } };
    const { pre, result, summary } = await applyBundle(tight);
    expect(summary?.checks.filter((c) => c.status === 'fail').map((c) => [c.name, c.code])).toEqual([
      ['limits.max_relationships_touched', 'LIMIT_EXCEEDED'],
    ]);
    // The constraint ran in auto-commit, so the store is not at PRE until the rollback runs.
    expect(result).toMatchObject({ status: 'applied', atPre: false });
    expect(await countOf(driver, `MATCH ()-[r:\`${ns.name('HAS_OWNER')}\`]->() RETURN count(r) AS count`)).toBe(0);
    await rollbackAndVerify(tight, pre);
  });
});
