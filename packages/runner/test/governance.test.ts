// Governance that cannot be sidestepped, tried as a hostile contributor would on the real PostgreSQL+PostGIS:
// a policy held by the store that travels with it, approvals bound to the bundle's content, inputs scanned
// and decoded before anything connects, bounded waits, and the drift gate in front of every rollback.
// Every refusal is checked against the database itself (catalog queries), never only our fingerprint.
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, kfm, query, readJson, repository, seededDatabasePerTest, startCli, until } from './postgis-harness.js';

const db = seededDatabasePerTest();
const FORWARD = 'CREATE INDEX parcels_geom_gist ON public.parcels USING gist (geom);\n';
const ROLLBACK = 'DROP INDEX IF EXISTS public.parcels_geom_gist;\n';
const indexes = async (table = 'parcels', schema = 'public') =>
  (
    await query<{ indexname: string }>(
      db.name,
      `SELECT indexname FROM pg_indexes WHERE schemaname = '${schema}' AND tablename = '${table}' ORDER BY 1`,
    )
  ).map((r) => r.indexname);
const unreachable = { KFM_PG_DSN: 'postgres://127.0.0.1:1/nothing' };

describe('a policy held by the store', () => {
  it('protects the store wherever a bundle is copied, and is shown and pushed with a receipt', async () => {
    const { root } = await repository({ forward: FORWARD, rollback: ROLLBACK });
    const pushed = await kfm(['--approval', 'CAB-1', 'policy', 'push', 'postgis', '--root', root], db.env);
    expect(pushed.code).toBe(0);
    expect(pushed.json.receipt).toMatch(/^migrations\/registry\/receipts\/runs\/.*run_receipt\.json$/);
    const shown = await kfm(['policy', 'show', 'postgis'], db.env);
    expect(shown.json.policy.policy.protected.schemas).toContain('governance');
    expect((await query(db.name, 'SELECT count(*)::int AS n FROM kfm_ledger.policy'))[0]?.n).toBe(1);

    // A bundle copied outside any repository (no repository policy), scoped to allow everything, touching governance.
    const loose = await bundle({
      forward: 'CREATE INDEX decisions_idx ON governance.decisions (decision_id);\n',
      rollback: 'DROP INDEX IF EXISTS governance.decisions_idx;\n',
      allowedTables: ["'*'"],
    });
    const yml = path.join(loose, 'migration.yml');
    await fs.writeFile(
      yml,
      (await fs.readFile(yml, 'utf8'))
        .replace('  allowed_schemas: [public]', '  allowed_schemas: [public, governance]')
        .replace('  forbidden_schemas: [governance, audit]\n', ''),
    );
    const refused = await kfm(['apply', loose], db.env);
    expect(refused.code).toBe(1);
    expect(
      refused.json.checks.filter((c: { status: string }) => c.status === 'fail').map((c: { code: string }) => c.code),
    ).toContain('PREFLIGHT_FORBIDDEN');
    expect(await indexes('decisions', 'governance')).not.toContain('decisions_idx');
    const receipt = await readJson(path.join(loose, 'receipts/run_receipt.json'));
    expect(receipt.policies.store).toBe(shown.json.policy.digest);
    expect(receipt.policies.repository).toBeUndefined();

    const noApproval = await kfm(['policy', 'push', 'postgis', '--root', root], db.env);
    expect(noApproval.code).toBe(2);
  });
});

describe('approvals bound to content', () => {
  it('refuses stage for a draft and for approvals of an edited bundle; prod needs a recorded ref and an earlier stage run', async () => {
    const { root, dir } = await repository({ forward: FORWARD, rollback: ROLLBACK });
    const registryFile = path.join(root, 'migrations/registry/migrations.v1.json');
    const draft = await kfm(['--env', 'stage', 'apply', dir], db.env);
    expect(draft.code).toBe(1);
    expect(draft.json.checks.find((c: { name: string }) => c.name === 'environment_approval')).toMatchObject({
      status: 'fail',
      code: 'POLICY_APPROVAL',
    });
    expect(await indexes()).not.toContain('parcels_geom_gist');
    expect((await readJson(registryFile)).migrations[0].status).toBe('draft');

    const approved = await kfm(['approve', dir, '--reviewer', 'kfm-platform', '--ref', 'PR-12#review-1'], db.env);
    expect(approved).toMatchObject({ code: 0, json: { registry_status: 'approved', missing: [] } });
    const stranger = await kfm(['approve', dir, '--reviewer', 'mallory', '--ref', 'x'], db.env);
    expect(stranger.code).toBe(2);

    // An edit after the approval voids it: the digest changed.
    await fs.appendFile(
      path.join(dir, 'forward.sql'),
      'CREATE INDEX parcels_owner_idx ON public.parcels (owner_id);\n',
    );
    const edited = await kfm(['--env', 'stage', 'apply', dir], db.env);
    expect(edited.code).toBe(1);
    expect(edited.json.checks.find((c: { name: string }) => c.name === 'environment_approval').message).toMatch(
      /voids earlier approvals/,
    );
    expect(await indexes()).toEqual((await indexes()).filter((i) => i !== 'parcels_owner_idx'));
    await fs.writeFile(path.join(dir, 'forward.sql'), FORWARD);

    const prodEarly = await kfm(['--env', 'prod', '--approval', 'PR-12#review-1', 'apply', dir], db.env);
    expect(prodEarly.code).toBe(1);
    expect(prodEarly.json.checks.find((c: { name: string }) => c.name === 'environment_approval').message).toMatch(
      /executed_stage/,
    );
    const stage = await kfm(['--env', 'stage', 'apply', dir], db.env);
    expect(stage.code).toBe(0);
    expect(await indexes()).toContain('parcels_geom_gist');
    expect((await kfm(['--env', 'stage', 'rollback', dir], db.env)).code).toBe(0);
    const whatever = await kfm(['--env', 'prod', '--approval', 'whatever', 'apply', dir], db.env);
    expect(whatever.code).toBe(1);
    expect(await indexes()).not.toContain('parcels_geom_gist');
    const prod = await kfm(['--env', 'prod', '--approval', 'PR-12#review-1', 'apply', dir], db.env);
    expect(prod.code).toBe(0);
    const history = (await readJson(registryFile)).migrations[0].history.map((h: { status: string }) => h.status);
    expect(history).toEqual(['draft', 'approved', 'executed_stage', 'rolled_back', 'executed_prod']);
    expect((await kfm(['mark', dir, 'merged', '--ref', 'abc123'], db.env)).json.registry_status).toBe('merged');
  });
});

describe('inputs are checked before anything connects', () => {
  it('refuses secrets in scripts, invalid UTF-8, empty scripts, unbounded waits, unsafe numbers and an unparsable rollback with exit 2, naming file:line', async () => {
    const cases: [string, Record<string, string>, string, Record<string, unknown>][] = [
      [
        'an AWS key in forward.sql',
        { 'forward.sql': `-- key AKIA${'Z'.repeat(16)}\n${FORWARD}` },
        'SECRET_IN_INPUT',
        { file: 'forward.sql', line: 1 },
      ],
      [
        'a DSN with a password in forward.sql',
        { 'forward.sql': `${FORWARD}-- see postgres://app:hunter22@db.internal:5432/x\n` },
        'SECRET_IN_INPUT',
        { file: 'forward.sql', line: 2 },
      ],
      ['a comment-only forward.sql', { 'forward.sql': '-- nothing yet\n' }, 'SCRIPT_EMPTY', {}],
      ['an empty forward.sql', { 'forward.sql': '' }, 'SCRIPT_EMPTY', {}],
      [
        'a rollback that does not parse',
        { 'rollback.sql': 'DROP INDX parcels_geom_gist;\n' },
        'SCRIPT_PARSE',
        { file: 'rollback.sql', line: 1 },
      ],
    ];
    for (const [name, files, code, where] of cases) {
      const dir = await bundle({ forward: FORWARD, rollback: ROLLBACK });
      for (const [file, text] of Object.entries(files)) await fs.writeFile(path.join(dir, file), text);
      // An unreachable store: exit 2 (not 3) proves nothing tried to connect.
      const run = await kfm(['apply', dir], unreachable);
      expect(run.code, name).toBe(2);
      expect(run.json.issues[0], name).toMatchObject({ code, ...where });
      expect(JSON.stringify(run), name).not.toContain('hunter22');
    }

    const invalid = await bundle({ forward: FORWARD, rollback: ROLLBACK });
    await fs.writeFile(
      path.join(invalid, 'forward.sql'),
      Buffer.concat([
        Buffer.from("CREATE INDEX a ON public.parcels (pid);\nSELECT '"),
        Buffer.from([0xff]),
        Buffer.from("';\n"),
      ]),
    );
    const encoding = await kfm(['apply', invalid], unreachable);
    expect(encoding.code).toBe(2);
    expect(encoding.json.issues[0]).toMatchObject({
      code: 'ENCODING_INVALID',
      file: 'forward.sql',
      line: 2,
      column: 9,
    });

    const yml = (dir: string) => path.join(dir, 'migration.yml');
    for (const [name, from, to, code] of [
      ['lock_timeout 0s', '  lock_timeout: 2s', '  lock_timeout: 0s', 'SCHEMA_PATTERN'],
      ['lock_timeout above the policy maximum', '  lock_timeout: 2s', '  lock_timeout: 31s', 'POLICY_LIMIT'],
      ['a limit that is no safe integer', '  max_row_backfill: 0', '  max_row_backfill: 1e400', 'SCHEMA_MAXIMUM'],
    ] as const) {
      const dir = await bundle({ forward: FORWARD, rollback: ROLLBACK });
      await fs.writeFile(yml(dir), (await fs.readFile(yml(dir), 'utf8')).replace(from, to));
      const validate = await kfm(['validate', dir], {});
      expect(validate.code, name).toBe(2);
      expect(
        validate.json.results[0].issues.map((i: { code: string }) => i.code),
        name,
      ).toContain(code);
      expect((await kfm(['apply', dir], unreachable)).code, name).toBe(2);
    }
  });

  it('strips a BOM before execution and records the same identity as without it', async () => {
    const plain = await bundle({ forward: FORWARD, rollback: ROLLBACK });
    const withBom = await bundle({ forward: `\uFEFF${FORWARD}`, rollback: ROLLBACK, id: 'PG-MIG-2026-11-24-01' });
    const run = await kfm(['apply', withBom], db.env);
    expect(run.code).toBe(0);
    expect(await indexes()).toContain('parcels_geom_gist');
    const bomReceipt = await readJson(path.join(withBom, 'receipts/run_receipt.json'));
    await kfm(['rollback', withBom], db.env);
    await kfm(['apply', plain], db.env);
    const plainReceipt = await readJson(path.join(plain, 'receipts/run_receipt.json'));
    expect(bomReceipt.bundle_digest).toBe(plainReceipt.bundle_digest);
  });
});

describe('the drift gate', () => {
  it('refuses a rollback onto drift with nothing changed, accepts it only with an approval, and lets a fixed rollback clear rollback_failed', async () => {
    const { root, dir } = await repository({ forward: FORWARD, rollback: ROLLBACK });
    expect((await kfm(['apply', dir], db.env)).code).toBe(0);
    await query(db.name, 'ALTER TABLE public.parcels ADD COLUMN x text');
    const status = await kfm(['status', '--root', root], db.env);
    expect(status.json.migrations[0].drift).toBeGreaterThan(0);
    const plan = await kfm(['plan', dir], db.env);
    expect(plan.json.checks.find((c: { name: string }) => c.name === 'drift')).toMatchObject({
      status: 'fail',
      code: 'DRIFT_DETECTED',
    });

    const refused = await kfm(['rollback', dir], db.env);
    expect(refused.code).toBe(1);
    const drift = refused.json.checks.find((c: { name: string }) => c.name === 'drift');
    expect(drift).toMatchObject({ status: 'fail', code: 'DRIFT_DETECTED' });
    expect(JSON.stringify(drift.observed)).toContain('public.parcels.x');
    expect(await indexes()).toContain('parcels_geom_gist');
    expect(
      (
        await query(
          db.name,
          "SELECT 1 FROM information_schema.columns WHERE table_name = 'parcels' AND column_name = 'x'",
        )
      ).length,
    ).toBe(1);

    expect((await kfm(['rollback', dir, '--accept-drift'], db.env)).code).toBe(2);
    // Accepted drift: the rollback runs, but the store cannot come back to PRE while x exists → rollback_failed.
    const accepted = await kfm(['--approval', 'INC-9', 'rollback', dir, '--accept-drift'], db.env);
    expect(accepted.code).toBe(4);
    const receipt = await readJson(path.join(dir, 'receipts/run_receipt.json'));
    expect(receipt.drift).toMatchObject({ accepted: true, approval_ref: 'INC-9' });
    expect((await kfm(['status', '--root', root], db.env)).json.migrations[0].ledger).toBe('rollback_failed');
    const pending = await kfm(['apply', dir], db.env);
    expect(pending.code).toBe(1);
    expect(pending.json.outcome.code).toBe('ROLLBACK_PENDING');
    expect(pending.json.outcome.message).toMatch(/kfm-migrate rollback/);

    // The fix: the drift removed by hand (or a fixed rollback script); the next rollback restores PRE.
    await query(db.name, 'ALTER TABLE public.parcels DROP COLUMN x');
    const fixed = await kfm(['rollback', dir], db.env);
    expect(fixed.code).toBe(0);
    expect((await kfm(['status', '--root', root], db.env)).json.migrations[0].ledger).toBe('rolled_back');
  });
});

describe('locks an operator can live with', () => {
  it('waits for a held lock with --lock-wait, and unlock names the holder and terminates it only with --force, with an audit receipt', async () => {
    const { root, dir } = await repository({ forward: FORWARD, rollback: ROLLBACK });
    const pg = await import('pg');
    const holder = new pg.default.Client({ connectionString: db.env.KFM_PG_DSN, application_name: 'someone else' });
    await holder.connect();
    holder.on('error', () => undefined);
    await holder.query('SELECT pg_advisory_lock($1, $2)', [0x4b464d2d, 0x4d494752]);
    const failFast = await kfm(['apply', dir], db.env);
    expect(failFast.code).toBe(1);
    expect(failFast.json.outcome.code).toBe('LOCK_HELD');
    // Released 1.5 s after the waiting run first tried the lock, so the wait is measured from that try,
    // not from the run's start-up. A backend's last query in pg_stat_activity shows it: the try itself,
    // or the holder lookup that follows every failed try.
    const [started] = await query<{ since: string }>(db.name, 'SELECT now()::text AS since');
    const since = started!.since;
    const waiting = startCli(['apply', dir, '--lock-wait', '20s'], db.env);
    await until(
      async () =>
        (
          await query(
            db.name,
            `SELECT 1 FROM pg_stat_activity WHERE backend_start > '${since}'::timestamptz
               AND (query LIKE 'SELECT pg_try_advisory_lock%' OR query LIKE '%FROM pg_locks l%')`,
          )
        ).length > 0,
      'the second run to try the lock',
    );
    await new Promise((r) => setTimeout(r, 1500));
    await holder.query('SELECT pg_advisory_unlock($1, $2)', [0x4b464d2d, 0x4d494752]);
    const waited = await waiting.done;
    expect(waited.code).toBe(0);
    // The receipt records that the run waited; how long is the machine's business (tests assert no wall-clock
    // bounds: under load the first try can come well before the measured wait starts).
    expect((await readJson(path.join(dir, 'receipts/run_receipt.json'))).lock.waited_ms).toBeGreaterThan(0);

    await holder.query('SELECT pg_advisory_lock($1, $2)', [0x4b464d2d, 0x4d494752]);
    const shown = await kfm(['unlock', 'postgis', '--reason', 'stuck deploy', '--root', root], db.env);
    expect(shown.code).toBe(1);
    expect(shown.json.holder.description).toContain('someone else');
    const forced = await kfm(
      ['unlock', 'postgis', '--reason', 'stuck deploy INC-3', '--force', '--root', root],
      db.env,
    );
    expect(forced.code).toBe(0);
    await expect(holder.query('SELECT 1')).rejects.toThrow();
    const audit = await readJson(path.join(root, forced.json.receipt));
    expect(audit).toMatchObject({
      operation: 'unlock',
      validation: { checks: [expect.objectContaining({ message: expect.stringContaining('stuck deploy INC-3') })] },
    });
    await holder.end().catch(() => undefined);
  });
});
