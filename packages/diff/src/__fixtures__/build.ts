// Tiny builders for hand-made baselines and declarations in tests (not part of the build).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Baseline, BaselineObject, Check, MigrationDeclaration } from '@kfm/migration-contracts';

/** A valid `sha256:<hex>` digest derived from a seed, so different seeds give different digests. */
export function digest(seed: string): string {
  return `sha256:${createHash('sha256').update(seed).digest('hex')}`;
}

export function object(kind: string, name: string, scope: Record<string, string[]>, version = 'v1'): BaselineObject {
  return { kind, name, scope, digest: digest(`${kind}|${name}|${version}`) };
}

/** A postgis table known as `schema.table` (canonical) and `table` (alias). */
export function table(qualified: string, version = 'v1'): BaselineObject {
  const [schema, name] = qualified.split('.') as [string, string];
  return object('table', qualified, { schemas: [schema], tables: [qualified, name] }, version);
}

/** A postgis index on `schema.table`. */
export function index(name: string, onTable: string, version = 'v1'): BaselineObject {
  const [schema, bare] = onTable.split('.') as [string, string];
  return object('index', name, { schemas: [schema], tables: [onTable, bare] }, version);
}

export function constraint(name: string, onTable: string, version = 'v1'): BaselineObject {
  const [schema, bare] = onTable.split('.') as [string, string];
  return object('constraint', name, { schemas: [schema], tables: [onTable, bare] }, version);
}

export interface BaselineParts {
  store?: string;
  objects: BaselineObject[];
  counts?: Record<string, number>;
  measures?: Baseline['measures'];
  fingerprints?: Partial<Baseline['fingerprints']>;
  invariants?: Check[];
  protected?: Baseline['protected'];
}

export function baseline(parts: BaselineParts): Baseline {
  const out: Baseline = {
    kfm_baseline_version: 'v1',
    store: parts.store ?? 'postgis',
    server: { product: 'test', version: '0' },
    counts: parts.counts ?? {},
    objects: parts.objects,
    fingerprints: { schema: digest(JSON.stringify(parts.objects.map((o) => [o.kind, o.name, o.digest]))), ...parts.fingerprints } as Baseline['fingerprints'],
  };
  if (parts.measures) out.measures = parts.measures;
  if (parts.invariants) out.invariants = parts.invariants;
  if (parts.protected) out.protected = parts.protected;
  return out;
}

const PREFIX: Record<string, string> = { postgis: 'PG', search: 'SEARCH', graph: 'GRAPH', other: 'OTHER' } as const;

export function declaration(
  type: MigrationDeclaration['type'],
  scope: MigrationDeclaration['scope'],
  limits: Record<string, number> = {},
  extra: Partial<MigrationDeclaration> = {},
): MigrationDeclaration {
  return {
    migration_id: `${PREFIX[type]}-MIG-2026-02-28-01`,
    type,
    intent: 'test migration',
    scope,
    limits: limits as MigrationDeclaration['limits'],
    requires_rollback: true,
    approvals: {},
    runner: {},
    artifacts: { forward: ['forward.sql'], rollback: ['rollback.sql'] },
    ...extra,
  };
}

export interface FixtureCase {
  name: string;
  input: {
    declaration: MigrationDeclaration;
    pre: Baseline;
    post: Baseline;
    metrics?: Record<string, number>;
    protected?: MigrationDeclaration['protected'];
  };
  expected: {
    status: 'pass' | 'fail';
    totals: { added: number; removed: number; changed: number };
    touched: Record<string, string[]>;
    checks: Record<string, { status: string; code?: string; observed?: unknown }>;
  };
}

/** Every `cases/*.json` file: input and expected output side by side. */
export function loadCases(): FixtureCase[] {
  const dir = new URL('./cases/', import.meta.url);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ name: file.replace(/\.json$/, ''), ...(JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Omit<FixtureCase, 'name'>) }));
}
