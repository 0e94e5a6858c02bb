// Scratch PostgreSQL databases for the bench: created under a kfm_bench_ prefix, always dropped
// (WITH FORCE) afterwards, and never named in results (DSNs stay in this process and its children).
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export function adminDsn() {
  return process.env.KFM_PG_ADMIN_DSN ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export function dsnFor(database) {
  const url = new URL(adminDsn());
  url.pathname = `/${database}`;
  return url.toString();
}

export async function withClient(dsn, work) {
  const client = new pg.Client({ connectionString: dsn });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export function scratchName(purpose) {
  return `kfm_bench_${purpose}_${randomBytes(3).toString('hex')}`;
}

export async function createDatabase(name, { template } = {}) {
  await withClient(adminDsn(), (c) => c.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`));
  return name;
}

export async function dropDatabase(name) {
  await withClient(adminDsn(), (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

export async function serverVersion() {
  return withClient(adminDsn(), async (c) => {
    const row = (
      await c.query(`SELECT current_setting('server_version') AS pg,
      (SELECT default_version FROM pg_available_extensions WHERE name = 'postgis') AS postgis`)
    ).rows[0];
    return { postgres: row.pg, postgis: row.postgis };
  });
}
