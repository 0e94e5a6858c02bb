// Demo driver: runs kfm-migrate as a user would (the CLI with --json) against the real local
// stores and prints a summary table. Exits non-zero when any step does not do what it should.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import neo4j from 'neo4j-driver';
import pg from 'pg';
import { clearGraph, seedGraph } from '../../fixtures/seed/graph/seed.mjs';
import { seedSearch } from '../../fixtures/seed/search/seed.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'packages/runner/dist/cli.js');
// `--refresh-examples` runs the same steps on the committed migrations/ itself (after removing its
// generated evidence and the registry's run history), so the evidence a reviewer reads there is what
// this version of kfm-migrate writes. Otherwise the demo works on a scratch copy.
const refresh = process.argv.includes('--refresh-examples');
const work = refresh ? root : path.join(root, '.kfm-tmp/demo');

function kfm(args, env = {}) {
  const started = performance.now();
  const run = spawnSync(process.execPath, [cli, ...args, '--json'], {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - started;
  let result;
  try {
    result = JSON.parse(run.stdout);
  } catch {
    result = { exit_code: run.status, raw: run.stdout };
  }
  if (run.stderr)
    process.stderr.write(
      run.stderr
        .split('\n')
        .filter(Boolean)
        .map((l) => `    ${l}`)
        .join('\n') + '\n',
    );
  return { code: run.status, result, ms };
}

async function reseedPostgis() {
  const dsn = process.env.KFM_PG_DSN;
  const url = new URL(dsn);
  const database = url.pathname.slice(1);
  const admin = new URL(dsn);
  admin.pathname = '/postgres';
  const adminClient = new pg.Client({ connectionString: admin.toString() });
  await adminClient.connect();
  await adminClient.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await adminClient.query(`CREATE DATABASE "${database}"`);
  await adminClient.end();
  const client = new pg.Client({ connectionString: dsn });
  await client.connect();
  await client.query('CREATE EXTENSION IF NOT EXISTS postgis');
  await client.query(fs.readFileSync(path.join(root, 'fixtures/seed/postgis/seed.sql'), 'utf8'));
  await client.end();
}

/** Neo4j reports lock contention with other clients as transient errors: retry those a few times. */
async function retryTransient(work, attempts = 5) {
  for (let i = 1; ; i++) {
    try {
      return await work();
    } catch (error) {
      if (!error?.retriable || i >= attempts) throw error;
      await new Promise((r) => setTimeout(r, 500 * i));
    }
  }
}

async function reseedGraph() {
  const driver = neo4j.driver(
    process.env.KFM_NEO4J_URI,
    neo4j.auth.basic(process.env.KFM_NEO4J_USER, process.env.KFM_NEO4J_PASSWORD ?? ''),
  );
  try {
    // Only the demo's own data and the runner's lock and ledger nodes: other data in the database stays.
    await retryTransient(() => clearGraph(driver, ''));
    await retryTransient(() => driver.executeQuery('MATCH (n) WHERE n:KfmLock OR n:KfmLedger DETACH DELETE n'));
    // A constraint a crashed earlier run left behind would make the migration's own CREATE fail.
    await retryTransient(() => driver.executeQuery('DROP CONSTRAINT parcel_parcel_id_unique IF EXISTS'));
    await retryTransient(() => seedGraph(driver, { prefix: '' }));
  } finally {
    await driver.close();
  }
}

const short = (cid) => (cid ? `${cid.slice(0, 9)}…${cid.slice(-6)}` : '-');
const rows = [];
let failures = 0;
function expect(label, ok, detail) {
  if (!ok) {
    failures += 1;
    console.error(`  ✗ ${label}: ${detail}`);
  } else console.error(`  ✓ ${label}`);
}

if (refresh) {
  for (const store of ['postgis', 'search', 'graph']) {
    for (const id of fs.readdirSync(path.join(root, 'migrations', store))) {
      for (const generated of ['baselines', 'diffs', 'receipts', 'plan.json'])
        fs.rmSync(path.join(root, 'migrations', store, id, generated), { recursive: true, force: true });
    }
  }
  const registryFile = path.join(root, 'migrations/registry/migrations.v1.json');
  const registry = JSON.parse(fs.readFileSync(registryFile, 'utf8'));
  for (const entry of registry.migrations) {
    entry.history = entry.history.filter((event) => !event.run_id);
    entry.status = entry.history.at(-1).status;
  }
  fs.writeFileSync(registryFile, JSON.stringify(registry, null, 2) + '\n');
} else {
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  fs.cpSync(path.join(root, 'migrations'), path.join(work, 'migrations'), { recursive: true });
  fs.cpSync(path.join(root, 'fixtures/demo'), path.join(work, 'demo'), { recursive: true });
  // The same search bundle once more, against OpenSearch: a copy without the evidence of the Elasticsearch run.
  const evidence = new Set(['baselines', 'diffs', 'receipts', 'plan.json']);
  fs.cpSync(
    path.join(root, 'migrations/search/SEARCH-MIG-2026-03-05-01'),
    path.join(work, 'demo/opensearch/SEARCH-MIG-2026-03-05-01'),
    {
      recursive: true,
      filter: (source) => !evidence.has(path.basename(source)),
    },
  );
}

console.error('[demo] reseeding the PostGIS demo database');
await reseedPostgis();
console.error('[demo] reseeding the Elasticsearch demo indices');
await seedSearch({ url: process.env.KFM_ES_URL });
if (!refresh) {
  console.error('[demo] reseeding the OpenSearch demo indices');
  await seedSearch({ url: process.env.KFM_OS_URL });
}
console.error('[demo] reseeding the Neo4j demo graph');
await reseedGraph();

const bundles = [
  { dir: 'migrations/postgis/PG-MIG-2026-02-28-01', expect: 0 },
  { dir: 'migrations/postgis/PG-MIG-2026-03-02-01', expect: 0 },
  { dir: 'demo/PG-MIG-2026-03-09-01', expect: 1, note: 'creates 3 indexes where 2 are allowed: must fail closed' },
  { dir: 'migrations/search/SEARCH-MIG-2026-03-05-01', expect: 0 },
  {
    dir: 'demo/opensearch/SEARCH-MIG-2026-03-05-01',
    expect: 0,
    label: 'SEARCH-MIG-2026-03-05-01 on OpenSearch',
    env: { KFM_ES_URL: process.env.KFM_OS_URL },
  },
  { dir: 'migrations/graph/GRAPH-MIG-2026-03-06-01', expect: 0 },
];

for (const bundle of bundles.filter((b) => !refresh || b.dir.startsWith('migrations/'))) {
  // Each bundle starts from the committed seed, so the rows are independent of each other.
  const runsDir = path.join(work, bundle.dir, 'receipts', 'runs');
  const prior = fs.existsSync(runsDir) ? fs.readdirSync(runsDir).length : 0;
  console.error(`\n[demo] ${bundle.dir}${bundle.note ? ` (${bundle.note})` : ''}`);
  const env = bundle.env ?? {};
  const plan = kfm(['plan', bundle.dir], env);
  expect('plan', plan.code === 0 || bundle.expect !== 0, `exit ${plan.code}`);
  const apply = kfm(['apply', bundle.dir], env);
  expect(`apply exits ${bundle.expect}`, apply.code === bundle.expect, `exit ${apply.code}`);
  const verify = kfm(['verify', bundle.dir], env);
  expect('receipts verify', verify.code === 0, `exit ${verify.code}`);
  let rollbackMs = 0;
  let after = '-';
  if (bundle.expect === 0) {
    const rollback = kfm(['rollback', bundle.dir], env);
    rollbackMs = rollback.ms;
    after = rollback.result.fingerprints?.after_rollback;
    expect(
      'rollback restores PRE',
      rollback.code === 0 && after === apply.result.fingerprints?.pre,
      `exit ${rollback.code}`,
    );
    const again = kfm(['verify', bundle.dir], env);
    expect('receipts verify after rollback', again.code === 0, `exit ${again.code}`);
  } else {
    after = apply.result.fingerprints?.after_rollback;
    expect(
      'store left at PRE',
      after === apply.result.fingerprints?.pre,
      `${after} vs ${apply.result.fingerprints?.pre}`,
    );
  }
  const checks = apply.result.checks ?? [];
  rows.push({
    bundle: bundle.label ?? path.basename(bundle.dir),
    outcome: apply.result.outcome?.status ?? `exit ${apply.code}`,
    checks: `${checks.filter((c) => c.status === 'pass').length}/${checks.length}`,
    touched:
      Object.entries(apply.result.touched ?? {})
        .map(([k, v]) => `${k}:${v.length}`)
        .join(' ') || '-',
    pre: short(apply.result.fingerprints?.pre),
    post: short(apply.result.fingerprints?.post),
    after_rollback: short(after),
    seconds: ((apply.ms + rollbackMs) / 1000).toFixed(2),
    receipts: (fs.existsSync(runsDir) ? fs.readdirSync(runsDir).length : 0) - prior,
  });
}

const headers = Object.keys(rows[0]);
const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => String(r[h]).length)));
const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
console.log('\n' + line(headers));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const row of rows) console.log(line(headers.map((h) => row[h])));
console.log(
  `\nartifacts: ${path.relative(root, work)}/ — ${failures === 0 ? 'every step behaved as governed' : `${failures} step(s) misbehaved`}`,
);
process.exit(failures === 0 ? 0 : 1);
