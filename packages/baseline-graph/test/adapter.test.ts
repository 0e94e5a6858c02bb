// The graph adapter's lifecycle capabilities against the real Neo4j: apply with decide at the
// commit point, abort leaving the graph at PRE, auto-commit schema plus rollback, ledger and lock.
import {
  KfmError,
  type ApplyRequest,
  type Baseline,
  type MigrationDeclaration,
  type StoreSession,
} from '@kfm/migration-contracts';
import type { Driver } from 'neo4j-driver';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGraphAdapter, GraphSession } from '../src/index.js';
import {
  connection,
  countOf,
  declarationFor,
  openDriver,
  run,
  runIdSuffix,
  script,
  testNamespace,
} from './neo4j-harness.js';

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

async function request(
  declaration: MigrationDeclaration,
  forward: string,
  decide: ApplyRequest['decide'],
): Promise<ApplyRequest> {
  return {
    declaration,
    scripts: [await script('forward.cypher', forward)],
    transactional: declaration.transactional !== false,
    baseline: baselineOptions(declaration),
    ledger: {
      migration_id: declaration.migration_id,
      bundle_digest: 'sha256:test',
      run_id: `${declaration.migration_id}${runIdSuffix(ns)}`,
      status: 'applied',
    },
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
    const result = await session.apply(
      await request(declaration, REWRITE, async ({ post, metrics }) => {
        seen = { post, metrics };
        return false;
      }),
    );
    expect(result.status).toBe('aborted');
    expect(result.atPre).toBe(true);
    // The POST baseline saw the uncommitted rewrite.
    expect(seen?.post.counts[`relationship_type:${n('HAS_OWNER')}`]).toBe(2200);
    expect(seen?.post.counts[`relationship_type:${n('OWNS')}`]).toBeUndefined();
    expect(seen?.post.counts[`pattern:(${n('Parcel')})-[${n('HAS_OWNER')}]->(${n('Owner')})`]).toBe(2200);
    expect(seen?.metrics).toMatchObject({
      relationships_created: 2200,
      relationships_deleted: 2200,
      relationships_touched: 4400,
      nodes_touched: 0,
      statements: 1,
    });
    // And the store is exactly at PRE.
    expect(await typeCount(n('OWNS'))).toBe(2200);
    expect(await typeCount(n('HAS_OWNER'))).toBe(0);
    expect((await session.captureBaseline(baselineOptions(declaration))).fingerprints).toEqual(pre.fingerprints);
  });

  it('refuses a change to a protected label: the POST protected fingerprint moves, the graph does not', async () => {
    const declaration = declarationFor(ns);
    let post: Baseline | undefined;
    const result = await session.apply(
      await request(
        declaration,
        `MATCH (a:\`${n('AuthoritySite')}\` {site_id: 'A-7'}) SET a.name = 'Moved';`,
        async (observed) => {
          post = observed.post;
          return false;
        },
      ),
    );
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
    expect(result).toMatchObject({
      status: 'failed',
      atPre: true,
      failure: { code: 'STATEMENT_FAILED', file: 'forward.cypher', line: 4 },
    });
    expect(await typeCount(n('OWNS'))).toBe(2200);
    expect(await typeCount(n('HAS_OWNER'))).toBe(0);
  });

  it('runs schema commands in auto-commit; when refused, the runner rollback restores the PRE fingerprint', async () => {
    const declaration = declarationFor(ns, { transactional: false });
    const result = await session.apply(
      await request(declaration, `${CONSTRAINT}\n${REWRITE}`, async ({ post }) => {
        expect(
          post.objects.some((o) => o.kind === 'constraint' && o.name === `UNIQUENESS (:${n('Parcel')} {parcel_id})`),
        ).toBe(true);
        return false;
      }),
    );
    expect(result).toMatchObject({ status: 'applied', atPre: false });
    expect(result.metrics).toMatchObject({ constraints_added: 1, relationships_touched: 4400 });
    // In script order: the constraint in auto-commit (group 1), then the rewrite in a transaction (group 2).
    expect(result.statements?.map((s) => [s.index, s.kind, s.group, s.transactional, s.outcome])).toEqual([
      [0, 'create_constraint', 0, false, 'ok'],
      [1, 'data', 1, true, 'ok'],
    ]);
    // The data transaction rolled back; the constraint is visible until the rollback script runs.
    expect(await typeCount(n('OWNS'))).toBe(2200);
    expect(
      await countOf(driver, 'SHOW CONSTRAINTS YIELD name WHERE name = $name RETURN count(*) AS count', {
        name: n('parcel_id_unique'),
      }),
    ).toBe(1);
    const rolled = await session.runRollback(
      [await script('rollback.cypher', `${REWRITE_BACK}\n${DROP_CONSTRAINT}`)],
      declaration,
    );
    expect(rolled).toMatchObject({ ok: true });
    expect(
      await countOf(driver, 'SHOW CONSTRAINTS YIELD name WHERE name = $name RETURN count(*) AS count', {
        name: n('parcel_id_unique'),
      }),
    ).toBe(0);
    expect((await session.captureBaseline(baselineOptions(declaration))).fingerprints).toEqual(pre.fingerprints);
  });

  it('commits with the ledger node, and the rollback script restores the PRE fingerprint', async () => {
    const declaration = declarationFor(ns, { transactional: false });
    expect(await session.ledgerState(declaration.migration_id)).toMatchObject({ state: 'absent' });
    const result = await session.apply(await request(declaration, `${CONSTRAINT}\n${REWRITE}`, async () => true));
    expect(result.status).toBe('committed');
    expect(await typeCount(n('HAS_OWNER'))).toBe(2200);
    expect(await typeCount(n('OWNS'))).toBe(0);
    expect(await session.ledgerState(declaration.migration_id)).toMatchObject({
      state: 'applied',
      bundle_digest: 'sha256:test',
      run_id: `${declaration.migration_id}${runIdSuffix(ns)}`,
    });
    expect((await session.ledgerHistory(declaration.migration_id)).map((row) => row.status)).toEqual(['applied']);
    const after = await session.captureBaseline(baselineOptions(declaration));
    expect(after.fingerprints.schema).not.toBe(pre.fingerprints.schema);

    const rolled = await session.runRollback(
      [await script('rollback.cypher', `${REWRITE_BACK}\n${DROP_CONSTRAINT}`)],
      declaration,
    );
    expect(rolled).toMatchObject({ ok: true });
    expect(await typeCount(n('OWNS'))).toBe(2200);
    const restored = await session.captureBaseline(baselineOptions(declaration));
    expect(restored.fingerprints).toEqual(pre.fingerprints);
    expect(restored.counts).toEqual(pre.counts);
    await session.recordLedger({
      migration_id: declaration.migration_id,
      bundle_digest: 'sha256:test',
      run_id: `r2${runIdSuffix(ns)}`,
      status: 'rolled_back',
      receipt_digest: 'bagaaieratestreceipt',
    });
    expect(await session.ledgerState(declaration.migration_id)).toMatchObject({
      state: 'rolled_back',
      run_id: `r2${runIdSuffix(ns)}`,
      last_receipt_digest: 'bagaaieratestreceipt',
    });
  });

  it('reports a failing rollback statement as ROLLBACK_FAILED', async () => {
    const declaration = declarationFor(ns, { transactional: false });
    const rolled = await session.runRollback(
      [await script('rollback.cypher', `DROP CONSTRAINT \`${n('does_not_exist')}\`;`)],
      declaration,
    );
    expect(rolled).toMatchObject({ ok: false, failure: { code: 'ROLLBACK_FAILED', file: 'rollback.cypher', line: 1 } });
  });
});

describe('GraphSession.lock (a lease)', () => {
  const lease = (run: string, extra: Partial<{ ttlMs: number; waitMs: number }> = {}) => ({
    owner: `kfm-migrate ${run}`,
    run_id: run,
    ttlMs: 30_000,
    waitMs: 0,
    ...extra,
  });

  it('fails fast naming the holder and expiry while another run holds the lease, and frees it on unlock', async () => {
    const other = await adapter.connect(connection, { applicationName: 'second runner' });
    try {
      expect(await session.lock(lease('GRAPH-MIG-A'))).toMatchObject({ acquired: true });
      const second = await other.lock(lease('GRAPH-MIG-B'));
      expect(second.acquired).toBe(false);
      if (!second.acquired)
        expect(second.holder.description).toMatch(
          /^kfm-migrate GRAPH-MIG-A \(run GRAPH-MIG-A\) since \d{4}-\d\d-\d\dT.*lease expires/,
        );
      await other.unlock(); // not the holder: must not release someone else's lease
      expect((await other.lock(lease('GRAPH-MIG-B'))).acquired).toBe(false);
      await session.unlock();
      expect(await other.lock(lease('GRAPH-MIG-B'))).toMatchObject({ acquired: true });
      await other.unlock();
      expect(
        await countOf(driver, 'MATCH (l:KfmLock {id: $id}) RETURN count(l) AS count', { id: `test-${ns.prefix}` }),
      ).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('takes over the lease of a crashed run after its TTL, records the takeover, and the lost run learns it', async () => {
    const crashed = await adapter.connect(connection, { applicationName: 'crashed runner' });
    const held = await crashed.lock(lease('GRAPH-MIG-DEAD', { ttlMs: 600 }));
    expect(held.acquired).toBe(true);
    // The "crash": the driver goes away without releasing; nothing renews the lease any more.
    await crashed.close();
    const refused = await session.lock(lease('GRAPH-MIG-NEXT'));
    expect(refused.acquired).toBe(false);
    const next = await session.lock(lease('GRAPH-MIG-NEXT', { waitMs: 5_000 }));
    expect(next).toMatchObject({
      acquired: true,
      takeover: { previous_owner: 'kfm-migrate GRAPH-MIG-DEAD', previous_run: 'GRAPH-MIG-DEAD' },
    });
    const [node] = await run(driver, 'MATCH (l:KfmLock {id: $id}) RETURN l.run_id AS run', { id: `test-${ns.prefix}` });
    expect(node?.run).toBe('GRAPH-MIG-NEXT');
    await session.unlock();
  });

  it('breakLock removes an expired lease, and a live one only with force', async () => {
    const holder = await adapter.connect(connection, { applicationName: 'holder' });
    try {
      await holder.lock(lease('GRAPH-MIG-LIVE'));
      expect(await session.breakLock({ force: false, reason: 'test' })).toMatchObject({
        removed: false,
        holder: { run_id: 'GRAPH-MIG-LIVE', expired: false },
      });
      expect(await session.breakLock({ force: true, reason: 'test' })).toMatchObject({ removed: true });
      expect(
        await countOf(driver, 'MATCH (l:KfmLock {id: $id}) RETURN count(l) AS count', { id: `test-${ns.prefix}` }),
      ).toBe(0);
    } finally {
      await holder.close();
    }
  });
});

describe('GraphSession runs statements in script order (clean up, then constrain)', () => {
  const CODE_CONSTRAINT = () =>
    `CREATE CONSTRAINT \`${n('parcel_code')}\` IF NOT EXISTS FOR (p:\`${n('Parcel')}\`) REQUIRE p.code IS UNIQUE`;
  const dropCode = () => run(driver, `DROP CONSTRAINT \`${n('parcel_code')}\` IF EXISTS`);
  const constraintCount = () =>
    countOf(driver, 'SHOW CONSTRAINTS YIELD name WHERE name = $name RETURN count(*) AS count', {
      name: n('parcel_code'),
    });

  it('cleans duplicates first, then adds the uniqueness constraint, and records the order', async () => {
    await run(driver, `MATCH (p:\`${n('Parcel')}\`) WHERE p.parcel_id IN ['P-1', 'P-2', 'P-3'] SET p.code = 'DUP'`);
    try {
      const declaration = declarationFor(ns, { transactional: false });
      const forward = `MATCH (p:\`${n('Parcel')}\`) WHERE p.code = 'DUP' SET p.code = p.parcel_id;\n${CODE_CONSTRAINT()};`;
      const result = await session.apply(await request(declaration, forward, async () => true));
      expect(result.status).toBe('committed');
      expect(await constraintCount()).toBe(1);
      expect(await countOf(driver, `MATCH (p:\`${n('Parcel')}\`) WHERE p.code = 'DUP' RETURN count(p) AS count`)).toBe(
        0,
      );
      expect(result.statements?.map((s) => [s.line, s.kind, s.group, s.transactional])).toEqual([
        [1, 'data', 0, true],
        [2, 'create_constraint', 1, false],
      ]);
    } finally {
      await dropCode();
      await run(driver, `MATCH (p:\`${n('Parcel')}\`) REMOVE p.code`);
      await run(driver, 'MATCH (l:KfmLedger) WHERE l.run_id ENDS WITH $suffix DELETE l', { suffix: runIdSuffix(ns) });
    }
  });

  it('constrain-then-violate fails at the violating statement; the rollback script restores PRE', async () => {
    const declaration = declarationFor(ns, { transactional: false });
    const forward = `${CODE_CONSTRAINT()};\nMATCH (p:\`${n('Parcel')}\`) WHERE p.parcel_id IN ['P-1', 'P-2'] SET p.code = 'SAME';`;
    const result = await session.apply(await request(declaration, forward, async () => true));
    expect(result).toMatchObject({ status: 'failed', atPre: false, failure: { code: 'STATEMENT_FAILED', line: 2 } });
    expect(result.statements?.map((s) => s.outcome)).toEqual(['ok', 'failed']);
    expect(await constraintCount()).toBe(1);
    const rolled = await session.runRollback(
      [
        await script(
          'rollback.cypher',
          `DROP CONSTRAINT \`${n('parcel_code')}\` IF EXISTS;\nMATCH (p:\`${n('Parcel')}\`) REMOVE p.code;`,
        ),
      ],
      declaration,
    );
    expect(rolled.ok).toBe(true);
    expect(await constraintCount()).toBe(0);
    expect((await session.captureBaseline(baselineOptions(declaration))).fingerprints).toEqual(pre.fingerprints);
  });

  it('refuses a script mixing schema and data commands in a transactional declaration, naming the schema command', async () => {
    const result = await session.apply(
      await request(
        declarationFor(ns),
        `MATCH (p:\`${n('Parcel')}\`) SET p.x = 1;\n${CODE_CONSTRAINT()};`,
        async () => true,
      ),
    );
    expect(result).toMatchObject({ status: 'failed', atPre: true, failure: { line: 2 } });
    expect(await constraintCount()).toBe(0);
  });
});

describe('graph adapter connect', () => {
  it('throws STORE_UNREACHABLE without any credential in the message', async () => {
    const values = { uri: 'bolt://127.0.0.1:1', user: 'kfm-user-secret', password: 'S3cret-pa55word' };
    const error = await adapter.connect(values, { applicationName: 'test' }).then(
      () => undefined,
      (e: unknown) => e,
    );
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
    expect(adapter.language).toMatchObject({ forward: 'forward.cypher', rollback: 'rollback.cypher' });
    expect(adapter.vocabulary.idPrefix).toBe('GRAPH');
    expect(adapter.connection).toEqual({
      uri: 'KFM_NEO4J_URI',
      user: 'KFM_NEO4J_USER',
      password: 'KFM_NEO4J_PASSWORD',
    });
  });
});
