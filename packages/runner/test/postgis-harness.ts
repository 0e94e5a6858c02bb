// Test harness for the lifecycle against the real PostgreSQL+PostGIS: a fresh seeded database per
// test, bundles in temp directories, and the kfm-migrate CLI run as a user would run it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach, beforeEach } from 'vitest';
import { capturePostgisBaseline } from '@kfm/baseline-postgis';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = path.join(repo, 'packages/runner/dist/cli.js');
const adminDsn = process.env.KFM_PG_ADMIN_DSN ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function dsnFor(database: string, auth = ''): string {
  const url = new URL(adminDsn);
  url.pathname = `/${database}`;
  if (auth) {
    const [user, password] = auth.split(':');
    url.username = user ?? '';
    url.password = password ?? '';
  }
  return url.toString();
}

export async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminDsn });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A login role without superuser or server-program rights, the way migrations should run: it owns the
 * database, the seeded schemas and tables, and may create schemas (the runner's ledger), nothing more. Dynamic SQL is
 * observed only for such a role; a superuser's is refused (`session-exit`).
 */
export const MIGRATOR = 'kfm_test_migrator';

async function ensureMigrator(): Promise<void> {
  await admin(async (c) => {
    // Test files run in parallel: the role may appear between the check and the create.
    await c
      .query(
        `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${MIGRATOR}') THEN CREATE ROLE ${MIGRATOR} LOGIN NOSUPERUSER; END IF; END $$`,
      )
      .catch((error: { code?: string }) => {
        if (error.code !== '23505' && error.code !== '42710') throw error;
      });
  });
}

/** A new database with PostGIS and the demo seed (owned by the migrator role); returns its name. */
export async function seededDatabase(): Promise<string> {
  const name = `kfm_rt_${randomBytes(4).toString('hex')}`;
  await ensureMigrator();
  // The owner (not a superuser) may create schemas and use PostgreSQL 15's owner-only public schema.
  await admin((c) => c.query(`CREATE DATABASE ${name} OWNER ${MIGRATOR}`));
  const client = new pg.Client({ connectionString: dsnFor(name) });
  await client.connect();
  await client.query('CREATE EXTENSION IF NOT EXISTS postgis');
  await client.query(`SET ROLE ${MIGRATOR}`);
  await client.query(await fs.readFile(path.join(repo, 'fixtures/seed/postgis/seed.sql'), 'utf8'));
  await client.end();
  return name;
}

/**
 * A fresh seeded database for every test of the calling file, dropped afterwards: `env` connects as the
 * superuser the DSN names, `migratorEnv` as the role without rights outside its session.
 */
export function seededDatabasePerTest(): {
  name: string;
  env: Record<string, string>;
  migratorEnv: Record<string, string>;
} {
  const current = { name: '', env: {} as Record<string, string>, migratorEnv: {} as Record<string, string> };
  beforeEach(async () => {
    current.name = await seededDatabase();
    current.env = { KFM_PG_DSN: dsnFor(current.name) };
    current.migratorEnv = { KFM_PG_DSN: dsnFor(current.name, MIGRATOR) };
  });
  afterEach(async () => {
    await dropDatabase(current.name);
  });
  return current;
}

export async function dropDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

export async function query<T extends pg.QueryResultRow = pg.QueryResultRow>(
  database: string,
  sql: string,
): Promise<T[]> {
  const client = new pg.Client({ connectionString: dsnFor(database) });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** The schema fingerprint as the adapter computes it, read from outside the runner. */
export async function fingerprint(database: string): Promise<string> {
  const client = new pg.Client({ connectionString: dsnFor(database) });
  await client.connect();
  try {
    return (await capturePostgisBaseline(client, {})).fingerprints.schema;
  } finally {
    await client.end();
  }
}

export interface BundleSpec {
  forward: string;
  rollback?: string;
  limits?: Record<string, number>;
  allowedTables?: string[];
  transactional?: boolean;
  id?: string;
}

/** Writes a bundle modelled on the example (parcels in scope; governance, audit, authority_sites forbidden). */
export async function bundle(spec: BundleSpec): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-bundle-'));
  const id = spec.id ?? 'PG-MIG-2026-11-24-01';
  const limits = spec.limits ?? { max_table_count_touched: 1, max_index_count_delta: 2, max_row_backfill: 0 };
  const yml = [
    `migration_id: ${id}`,
    'type: postgis',
    'intent: "lifecycle test"',
    ...(spec.transactional === false ? ['transactional: false'] : []),
    'scope:',
    '  allowed_schemas: [public]',
    `  allowed_tables: [${(spec.allowedTables ?? ['parcels']).join(', ')}]`,
    '  forbidden_schemas: [governance, audit]',
    '  forbidden_tables: [authority_sites]',
    'limits:',
    ...Object.entries(limits).map(([k, v]) => `  ${k}: ${v}`),
    'requires_rollback: true',
    'approvals:',
    '  required_reviewers: [kfm-platform]',
    'runner:',
    '  tool: kfm-migrate',
    '  environment: [KFM_PG_DSN]',
    '  lock_timeout: 2s',
    'artifacts:',
    '  forward: [forward.sql]',
    '  rollback: [rollback.sql]',
  ].join('\n');
  await fs.writeFile(path.join(dir, 'migration.yml'), yml + '\n');
  await fs.writeFile(path.join(dir, 'forward.sql'), spec.forward);
  await fs.writeFile(path.join(dir, 'rollback.sql'), spec.rollback ?? '-- nothing to undo\nSELECT 1;\n');
  return dir;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, any>;
}

export function startCli(
  args: string[],
  env: Record<string, string>,
): { done: Promise<CliRun>; pid: number | undefined; kill: (signal: NodeJS.Signals) => void; output: () => string } {
  const child = spawn(process.execPath, [cli, ...args, '--json'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<CliRun>((resolve) =>
    child.on('close', (code) => {
      let json: Record<string, any> = {};
      try {
        json = JSON.parse(stdout);
      } catch {
        json = {};
      }
      resolve({ code, stdout, stderr, json });
    }),
  );
  return { done, pid: child.pid, kill: (signal) => child.kill(signal), output: () => stderr };
}

export const kfm = (args: string[], env: Record<string, string>) => startCli(args, env).done;

/** Polls until `probe` is true; bounded, so a broken expectation fails instead of hanging. */
export async function until(probe: () => Promise<boolean>, what: string, attempts = 240): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Every byte written under a directory, for leak checks. */
export async function allBytes(dir: string): Promise<string> {
  let out = '';
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      out += await fs.readFile(path.join(entry.parentPath ?? (entry as any).path, entry.name), 'utf8');
  }
  return out;
}

/** A repository root with migrations/registry (registry + policy) and the bundle registered as a draft. */
export async function repository(
  spec: BundleSpec & { policy?: Record<string, unknown> | null },
): Promise<{ root: string; dir: string; id: string; rel: string }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-repo-'));
  const id = spec.id ?? 'PG-MIG-2026-11-24-01';
  const rel = `postgis/${id}`;
  const source = await bundle(spec);
  const dir = path.join(root, 'migrations', rel);
  await fs.mkdir(path.dirname(dir), { recursive: true });
  await fs.cp(source, dir, { recursive: true });
  await fs.rm(source, { recursive: true, force: true });
  await fs.mkdir(path.join(root, 'migrations/registry'), { recursive: true });
  const registry = {
    kfm_migrations_registry_version: 'v1',
    migrations: [
      {
        migration_id: id,
        type: 'postgis',
        path: rel,
        status: 'draft',
        history: [{ status: 'draft', at: '2026-11-24T00:00:00Z' }],
      },
    ],
  };
  await fs.writeFile(path.join(root, 'migrations/registry/migrations.v1.json'), JSON.stringify(registry, null, 2));
  const policy =
    spec.policy === undefined
      ? JSON.parse(await fs.readFile(path.join(repo, 'migrations/registry/policy.v1.json'), 'utf8'))
      : spec.policy;
  if (policy)
    await fs.writeFile(path.join(root, 'migrations/registry/policy.v1.json'), JSON.stringify(policy, null, 2));
  return { root, dir, id, rel };
}

export async function readJson<T = Record<string, any>>(file: string): Promise<T> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as T;
}
