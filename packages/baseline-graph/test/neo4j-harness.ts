// Shared set-up for the store tests: a driver from the KFM_NEO4J_* variables (the test, not the
// library, reads the environment), a fresh label namespace per test file, the demo seed under that
// namespace, and a declaration whose names carry the namespace.
import { randomBytes } from 'node:crypto';
import type { MigrationDeclaration, ScriptFile } from '@kfm/migration-contracts';
import { cidOfScript } from '@kfm/receipts';
import neo4j, { type Driver } from 'neo4j-driver';
import { clearGraph, seedGraph, seedNames } from '../../../fixtures/seed/graph/seed.mjs';

export const connection = {
  uri: process.env.KFM_NEO4J_URI ?? 'bolt://127.0.0.1:7687',
  user: process.env.KFM_NEO4J_USER ?? 'neo4j',
  password: process.env.KFM_NEO4J_PASSWORD ?? 'kfm-local-dev',
};

export function openDriver(): Driver {
  return neo4j.driver(connection.uri, neo4j.auth.basic(connection.user, connection.password), {
    logging: { level: 'error', logger: () => undefined },
  });
}

/** `T<hex>_`: labels and types of one test file, so files never see each other's nodes. */
export function namespace(): string {
  return `T${randomBytes(4).toString('hex')}_`;
}

export interface Namespace {
  prefix: string;
  /** Label/type name under the namespace, unquoted. */
  name(base: string): string;
  seed(driver: Driver): Promise<{ nodes: number; relationships: number }>;
  clear(driver: Driver): Promise<void>;
}

/** Run ids of a namespace's ledger entries end with this, so clean-up removes exactly them. */
export function runIdSuffix(ns: Pick<Namespace, 'prefix'>): string {
  return `@test-${ns.prefix}`;
}

export function testNamespace(): Namespace {
  const prefix = namespace();
  return {
    prefix,
    name: (base) => `${prefix}${base}`,
    seed: (driver) => seedGraph(driver, { prefix }),
    clear: async (driver) => {
      await clearGraph(driver, prefix);
      // Labels outside the seed that a test created (e.g. HAS_OWNER endpoints are seed labels).
      const session = driver.session();
      try {
        await session.run('MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH $prefix) DETACH DELETE n', {
          prefix,
        });
        await session.run('MATCH (l:KfmLedger) WHERE l.run_id ENDS WITH $suffix DELETE l', {
          suffix: runIdSuffix({ prefix }),
        });
        await session.run('MATCH (l:KfmLock {id: $id}) DELETE l', { id: `test-${prefix}` });
        for (const row of (await session.run('SHOW CONSTRAINTS YIELD name, labelsOrTypes')).records) {
          if ((row.get('labelsOrTypes') as string[] | null)?.some((l) => l.startsWith(prefix)))
            await session.run(`DROP CONSTRAINT \`${row.get('name') as string}\``);
        }
        for (const row of (await session.run('SHOW INDEXES YIELD name, labelsOrTypes, owningConstraint')).records) {
          if (
            row.get('owningConstraint') === null &&
            (row.get('labelsOrTypes') as string[] | null)?.some((l) => l.startsWith(prefix))
          )
            await session.run(`DROP INDEX \`${row.get('name') as string}\``);
        }
      } finally {
        await session.close();
      }
    },
  };
}

export { seedNames };

export async function run(
  driver: Driver,
  query: string,
  parameters: Record<string, unknown> = {},
): Promise<Record<string, unknown>[]> {
  const session = driver.session();
  try {
    const result = await session.run(query, parameters);
    return result.records.map((record) => {
      const row = record.toObject() as Record<string, unknown>;
      for (const [key, value] of Object.entries(row)) if (neo4j.isInt(value)) row[key] = value.toNumber();
      return row;
    });
  } finally {
    await session.close();
  }
}

export async function countOf(
  driver: Driver,
  query: string,
  parameters: Record<string, unknown> = {},
): Promise<number> {
  const [row] = await run(driver, query, parameters);
  return Number(row?.count ?? Number.NaN);
}

export async function script(path: string, text: string): Promise<ScriptFile> {
  return { path, text, digest: await cidOfScript(text) };
}

/** The demo migration's declaration, names under the namespace. */
export function declarationFor(ns: Namespace, overrides: Partial<MigrationDeclaration> = {}): MigrationDeclaration {
  const n = ns.name;
  return {
    // A date no real migration uses, so a test ledger entry can never shadow a real one.
    migration_id: `GRAPH-MIG-2000-01-01-${String(Math.floor(Math.random() * 90) + 10)}`,
    type: 'graph',
    intent: 'test',
    transactional: true,
    scope: {
      allowed_labels: [n('Parcel'), n('Owner')],
      allowed_relationship_types: [n('OWNS'), n('HAS_OWNER')],
      forbidden_labels: [n('AuthoritySite')],
      forbidden_relationship_types: [n('DERIVED_FROM'), n('WITHIN')],
    },
    limits: {
      max_label_count_delta: 0,
      max_relationship_type_count_delta: 2,
      max_relationships_touched: 4400,
      max_nodes_touched: 0,
    },
    requires_rollback: true,
    approvals: {},
    runner: {},
    protected: { labels: [{ label: n('AuthoritySite'), key: 'site_id' }] },
    invariants: {
      provenance_label: n('Provenance'),
      required_relationships: [{ label: n('Parcel'), type: n('DERIVED_FROM'), direction: 'out' }],
      exclusive_labels: [[n('Parcel'), n('Owner')]],
    },
    artifacts: { forward: ['forward.cypher'], rollback: ['rollback.cypher'] },
    ...overrides,
  };
}

/** The example bundle's Cypher with every seed name moved into the namespace (whole words only). */
export function namespaced(text: string, ns: Namespace): string {
  return text.replace(
    /\b(Parcel|Owner|Provenance|AuthoritySite|OWNS|HAS_OWNER|DERIVED_FROM|WITHIN|parcel_parcel_id_unique)\b/g,
    (name) => ns.name(name),
  );
}
