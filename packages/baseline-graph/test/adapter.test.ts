// The graph adapter's lifecycle capabilities against the real Neo4j: apply with decide at the
// commit point, abort leaving the graph at PRE, auto-commit schema plus rollback, ledger and lock.
import { KfmError, type ApplyRequest, type Baseline, type MigrationDeclaration, type StoreSession } from '@kfm/migration-contracts';
import type { Driver } from 'neo4j-driver';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGraphAdapter, GraphSession } from '../src/index.js';
import { connection, countOf, declarationFor, openDriver, run, runIdSuffix, script, testNamespace } from './neo4j-harness.js';

const ns = testNamespace();
const n = ns.name;
const adapter = createGraphAdapter({ labelPrefix: ns.prefix, lockId: `test-${ns.prefix}` });
let driver: Driver;
let session: StoreSession;

const REWRITE = `MATCH (p:\`${n('Parcel')}\`)-[owns:\`${n('OWNS')}\`]->(o:\`${n('Owner')}\`)
CREATE (p)-[has:\`${n('HAS_OWNER')}\`]->(o) SET has = properties(owns) DELETE owns;`;
const REWRITE_BACK = `MATCH (p:\`${n('Parcel')}\`)-[has:\`${n('HAS_OWNER')}\`]->(o:\`${n('Owner')}\`)
CREATE (p)-[owns:\`${n('OWNS')}\`]->(o) SET owns = properties(has) DELETE has;`;
const CONSTRAINT = `CREATE CONSTRAINT \`${n('parcel_id_unique')}\` IF NOT EXISTS FOR (p:\`${n('Parcel')}\`) REQUIRE p.parcel_id IS UNIQUE;`;
const DROP_CONSTRAINT = `DROP CONSTRAINT \`${n('parcel_id_unique')}\` IF EXISTS;`;

function baselineOptions(declaration: MigrationDeclaration) {
  return { declaration, protected: declaration.protected ?? {}, capturedAt: '2026-03-06T00:00:00.000Z' };
}

async function request(declaration: MigrationDeclaration, forward: string, decide: ApplyRequest['decide']): Promise<ApplyRequest> {
  return {
    declaration,
    scripts: [await script('forward.cypher', forward)],
    transactional: declaration.transactional !== false,
    baseline: baselineOptions(declaration),
    ledger: { migration_id: declaration.migration_id, forward_digest: 'bafkreitest', run_id: `${declaration.migration_id}${runIdSuffix(ns)}`, status: 'applied' },
    decide,
  };
}

const typeCount = (type: string) => countOf(driver, `MATCH ()-[r:\`${type}\`]->() RETURN count(r) AS count`);

beforeAll(async () => {
  driver = openDriver();
  await ns.seed(driver);
  session = await adapter.connect(connection, { applicationName: 'baseline-graph tests' });
});

afterAll(async () => {
  await session?.close();
  await ns.clear(driver);
  await driver.close();
});

let pre: Baseline;
beforeEach(async () => {
  pre = await session.captureBaseline(baselineOptions(declarationFor(ns)));
});

describe('GraphSession.apply', () => {
  it('measures a relationship-type rewrite inside the transaction and leaves the graph at PRE when refused', async () => {
    const declaration = declarationFor(ns);
    let seen: { post: Baseline; metrics: Record<string, number> } | undefined;
    const result = await session.apply(await request(declaration, REWRITE, async (post, metrics) => {
      seen = { post, metrics };
      return false;
    }));
    expect(result.status).toBe('aborted');
    expect(result.atPre).toBe(true);
    // The POST baseline saw the uncommitted rewrite.
    expect(seen?.post.counts[`relationship_type:${n('HAS_OWNER')}`]).toBe(2200);
    expect(seen?.post.counts[`relationship_type:${n('OWNS')}`]).toBeUndefined();
    expect(seen?.post.counts[`pattern:(${n('Parcel')})-[${n('HAS_OWNER')}]->(${n('Owner')})`]).toBe(2200);
    expect(seen?.metrics).toMatchObject({ relationships_created: 2200, relationships_deleted: 2200, relationships_touched: 4400, nodes_touched: 0, statements: 1 });
    // And the store is exactly at PRE.
    expect(await typeCount(n('OWNS'))).toBe(2200);
    expect(await typeCount(n('HAS_OWNER'))).toBe(0);
    expect((await session.captureBaseline(baselineOptions(declaration))).fingerprints).toEqual(pre.fingerprints);
  });

  it('refuses a change to a protected label: the POST protected fingerprint moves, the graph does not', async () => {
    const declaration = declarationFor(ns);
    let post: Baseline | undefined;
    const result = await session.apply(await request(declaration, `MATCH (a:\`${n('AuthoritySite')}\` {site_id: 'A-7'}) SET a.name = 'Moved';`, async (observed) => {
      post = observed;
      return false;
    }));
    expect(result).toMatchObject({ status: 'aborted', atPre: true });
    expect(post?.fingerprints.protected).not.toBe(pre.fingerprints.protected);
    expect(post?.fingerprints.schema).toBe(pre.fingerprints.schema);
    const [site] = await run(driver, `MATCH (a:\`${n('AuthoritySite')}\` {site_id: 'A-7'}) RETURN a.name AS name`);
    expect(site?.name).toBe('Site 7');
    expect((await session.captureBaseline(baselineOptions(declaration))).fingerprints).toEqual(pre.fingerprints);
  });

  it('reports a failing statement as failed at PRE, with file and line', async () => {
    const declaration = declarationFor(ns);
    const forward = `${REWRITE}\n\nMATCH (p:\`${n('Parcel')}\`) RETURN p.area_m2 / 0 AS boom;`;
    const result = await session.apply(await request(declaration, forward, async () => true));
    expect(result).toMatchObject({ status: 'failed', atPre: true, failure: { code: 'STATEMENT_FAILED', file: 'forward.cypher', line: 4 } });
    expect(await typeCount(n('OWNS'))).toBe(2200);
    expect(await typeCount(n('HAS_OWNER'))).toBe(0);
  });

  it('runs schema commands in auto-commit; when refused, the runner rollback restores the PRE fingerprint', async () => {
    const declaration = declarationFor(ns, { transactional: false });
    const result = await session.apply(await request(declaration, `${CONSTRAINT}\n${REWRITE}`, async (post) => {
      expect(post.objects.some((o) => o.kind === 'constraint' && o.name === `UNIQUENESS (:${n('Parcel')} {parcel_id})`)).toBe(true);
      return false;
    }));
    expect(result).toMatchObject({ status: 'applied', atPre: false });
    expect(result.metrics).toMatchObject({ constraints_added: 1, relationships_touched: 4400 });
    // The data transaction rolled back; the constraint is visible until the rollback script runs.
    expect(await typeCount(n('OWNS'))).toBe(2200);
    expect(await countOf(driver, 'SHOW CONSTRAINTS YIELD name WHERE name = $name RETURN count(*) AS count', { name: n('parcel_id_unique') })).toBe(1);
    const rolled = await session.runRollback([await script('rollback.cypher', `${REWRITE_BACK}\n${DROP_CONSTRAINT}`)], declaration);
    expect(rolled).toEqual({ ok: true });
    expect(await countOf(driver, 'SHOW CONSTRAINTS YIELD name WHERE name = $name RETURN count(*) AS count', { name: n('parcel_id_unique') })).toBe(0);
    expect((await session.captureBaseline(baselineOptions(declaration))).fingerprints).toEqual(pre.fingerprints);
  });

  it('commits with the ledger node, and the rollback script restores the PRE fingerprint', async () => {
    const declaration = declarationFor(ns, { transactional: false });
    expect(await session.ledgerState(declaration.migration_id)).toMatchObject({ state: 'absent' });
    const result = await session.apply(await request(declaration, `${CONSTRAINT}\n${REWRITE}`, async () => true));
    expect(result.status).toBe('committed');
    expect(await typeCount(n('HAS_OWNER'))).toBe(2200);
    expect(await typeCount(n('OWNS'))).toBe(0);
    expect(await session.ledgerState(declaration.migration_id)).toMatchObject({ state: 'applied', forward_digest: 'bafkreitest', run_id: `${declaration.migration_id}${runIdSuffix(ns)}` });
    const after = await session.captureBaseline(baselineOptions(declaration));
    expect(after.fingerprints.schema).not.toBe(pre.fingerprints.schema);

    const rolled = await session.runRollback([await script('rollback.cypher', `${REWRITE_BACK}\n${DROP_CONSTRAINT}`)], declaration);
    expect(rolled).toEqual({ ok: true });
    expect(await typeCount(n('OWNS'))).toBe(2200);
    const restored = await session.captureBaseline(baselineOptions(declaration));
    expect(restored.fingerprints).toEqual(pre.fingerprints);
    expect(restored.counts).toEqual(pre.counts);
    await session.recordLedger({ migration_id: declaration.migration_id, forward_digest: 'bafkreitest', run_id: `r2${runIdSuffix(ns)}`, status: 'rolled_back', receipt_digest: 'bagaaieratestreceipt' });
    expect(await session.ledgerState(declaration.migration_id)).toMatchObject({ state: 'rolled_back', run_id: `r2${runIdSuffix(ns)}`, last_receipt_digest: 'bagaaieratestreceipt' });
  });

  it('reports a failing rollback statement as ROLLBACK_FAILED', async () => {
    const declaration = declarationFor(ns, { transactional: false });
    const rolled = await session.runRollback([await script('rollback.cypher', `DROP CONSTRAINT \`${n('does_not_exist')}\`;`)], declaration);
    expect(rolled).toMatchObject({ ok: false, failure: { code: 'ROLLBACK_FAILED', file: 'rollback.cypher', line: 1 } });
  });
});

describe('GraphSession.lock', () => {
  it('fails fast naming the holder while another run holds the lock, and frees it on unlock', async () => {
    const other = await adapter.connect(connection, { applicationName: 'second runner' });
    try {
      expect(await session.lock('kfm-migrate GRAPH-MIG-A')).toEqual({ acquired: true });
      const second = await other.lock('kfm-migrate GRAPH-MIG-B');
      expect(second.acquired).toBe(false);
      if (!second.acquired) expect(second.holder).toMatch(/^kfm-migrate GRAPH-MIG-A since \d{4}-\d\d-\d\dT/);
      await other.unlock(); // not the holder: must not release someone else's lock
      expect((await other.lock('kfm-migrate GRAPH-MIG-B')).acquired).toBe(false);
      await session.unlock();
      expect(await other.lock('kfm-migrate GRAPH-MIG-B')).toEqual({ acquired: true });
      await other.unlock();
      expect(await countOf(driver, 'MATCH (l:KfmLock {id: $id}) RETURN count(l) AS count', { id: `test-${ns.prefix}` })).toBe(0);
    } finally {
      await other.close();
    }
  });
});

describe('graph adapter connect', () => {
  it('throws STORE_UNREACHABLE without any credential in the message', async () => {
    const values = { uri: 'bolt://127.0.0.1:1', user: 'kfm-user-secret', password: 'S3cret-pa55word' };
    const error = await adapter.connect(values, { applicationName: 'test' }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(KfmError);
    expect((error as KfmError).code).toBe('STORE_UNREACHABLE');
    const text = `${(error as Error).message} ${JSON.stringify((error as KfmError).issue)}`;
    expect(text).toContain('127.0.0.1:1');
    expect(text).not.toContain('S3cret-pa55word');
    expect(text).not.toContain('kfm-user-secret:');
  });

  it('is a GraphSession with the documented adapter shape', () => {
    expect(session).toBeInstanceOf(GraphSession);
    expect(adapter.type).toBe('graph');
    expect(adapter.scripts).toEqual({ forward: 'forward.cypher', rollback: 'rollback.cypher' });
    expect(adapter.connection).toEqual({ uri: 'KFM_NEO4J_URI', user: 'KFM_NEO4J_USER', password: 'KFM_NEO4J_PASSWORD' });
  });
});
