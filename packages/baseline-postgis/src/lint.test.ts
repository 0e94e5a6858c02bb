import type { MigrationDeclaration, ScriptFile } from '@kfm/migration-contracts';
import { describe, expect, it } from 'vitest';
import { preflightPostgis } from './preflight.js';
import type { NameCatalog } from './resolve.js';

const declaration = (extra: Partial<MigrationDeclaration> = {}): MigrationDeclaration => ({
  migration_id: 'PG-MIG-2026-12-01-01',
  type: 'postgis',
  intent: 'lint',
  scope: { allowed_schemas: ['public'], allowed_tables: ['*'] },
  limits: {},
  requires_rollback: true,
  approvals: {},
  runner: {},
  artifacts: { forward: ['forward.sql'] },
  ...extra,
});
const catalog: NameCatalog = {
  searchPath: ['public'],
  user: 'app',
  relations: { parcels: ['public'], tiny: ['public'] },
  opaqueFunctions: {},
};
const sizes = async (tables: string[]) =>
  new Map(
    tables.flatMap((table) =>
      table === 'public.parcels'
        ? [[table, { rows: 250_000, bytes: 80_000_000 }]]
        : table === 'public.tiny'
          ? [[table, { rows: 12, bytes: 16_384 }]]
          : [],
    ) as [string, { rows: number; bytes: number }][],
  );
const script = (text: string): ScriptFile[] => [{ path: 'forward.sql', text, digest: 'unused' }];

async function lint(
  text: string,
  extra: Partial<MigrationDeclaration> = {},
  policy?: { threshold?: number; severities?: Record<string, 'error' | 'warning' | 'off'> },
) {
  const result = await preflightPostgis(script(text), declaration(extra), undefined, {
    catalog,
    sizes,
    ...(policy ? { lint: policy } : {}),
  });
  return {
    result,
    rules: (result.lint ?? []).map((finding) => finding.rule),
    blocking: result.checks.filter((check) => check.code === 'LINT_ERROR').map((check) => check.observed),
  };
}

describe('lock-hazard lint', () => {
  it.each([
    ['CREATE INDEX parcels_no ON parcels (parcel_no);', 'index-not-concurrent'],
    ['ALTER TABLE parcels ADD CONSTRAINT area_positive CHECK (area_m2 > 0);', 'constraint-not-valid'],
    [
      'ALTER TABLE parcels ADD CONSTRAINT owner_fk FOREIGN KEY (owner_id) REFERENCES owners (id);',
      'constraint-not-valid',
    ],
    ['ALTER TABLE parcels ALTER COLUMN parcel_no SET NOT NULL;', 'set-not-null'],
    ['ALTER TABLE parcels ALTER COLUMN area_m2 TYPE numeric;', 'column-type-rewrite'],
    ['ALTER TABLE parcels ADD COLUMN token uuid DEFAULT gen_random_uuid();', 'volatile-default'],
    ["UPDATE parcels SET land_use = 'x';", 'unbatched-backfill'],
  ])('%s fires %s on a large table, stays quiet on a small one', async (sql, rule) => {
    const large = await lint(sql);
    expect(large.rules).toEqual([rule]);
    expect(large.result.lint?.[0]).toMatchObject({
      rule,
      file: 'forward.sql',
      line: 1,
      table: 'public.parcels',
      rows_estimate: 250_000,
      bytes: 80_000_000,
    });
    const small = await lint(sql.replace(/\bparcels\b/, 'tiny'));
    expect(small.rules).toEqual([]);
  });

  it('accepts the safe patterns: CONCURRENTLY, NOT VALID then VALIDATE, a new table', async () => {
    expect(
      (await lint('CREATE INDEX CONCURRENTLY parcels_no ON parcels (parcel_no);', { transactional: false })).rules,
    ).toEqual([]);
    expect(
      (
        await lint(
          'ALTER TABLE parcels ADD CONSTRAINT a CHECK (area_m2 > 0) NOT VALID;\nALTER TABLE parcels VALIDATE CONSTRAINT a;',
        )
      ).rules,
    ).toEqual([]);
    expect(
      (await lint('CREATE TABLE public.fresh (id int);\nCREATE INDEX fresh_id ON public.fresh (id);')).rules,
    ).toEqual([]);
  });

  it('flags destructive and rename statements whatever the size; an approval reference settles destructive', async () => {
    expect((await lint('DROP TABLE tiny;')).rules).toEqual(['destructive']);
    expect((await lint('DROP TABLE tiny;', { approvals: { exception_ref: 'CAB-9' } })).rules).toEqual([]);
    expect((await lint('ALTER TABLE tiny RENAME COLUMN a TO b;')).rules).toEqual(['rename']);
  });

  it('flags an exclusive lock held while a slow statement runs in the same transaction', async () => {
    const { rules } = await lint("ALTER TABLE parcels ADD COLUMN note text;\nUPDATE parcels SET note = 'x';");
    expect(rules).toEqual(['exclusive-lock-long', 'unbatched-backfill']);
  });

  it('honours an ignore comment with its reason, and the policy threshold and severities', async () => {
    const ignored = await lint(
      '-- kfm-lint: ignore index-not-concurrent built during the maintenance window\nCREATE INDEX parcels_no ON parcels (parcel_no);',
    );
    expect(ignored.result.lint?.[0]).toMatchObject({
      rule: 'index-not-concurrent',
      ignored: { reason: 'built during the maintenance window' },
    });
    expect(ignored.blocking).toEqual([]);
    expect((await lint('CREATE INDEX parcels_no ON parcels (parcel_no);')).blocking).toEqual(['index-not-concurrent']);
    expect((await lint('CREATE INDEX parcels_no ON parcels (parcel_no);', {}, { threshold: 1_000_000 })).rules).toEqual(
      [],
    );
    const warning = await lint(
      'CREATE INDEX parcels_no ON parcels (parcel_no);',
      {},
      { severities: { 'index-not-concurrent': 'warning' } },
    );
    expect(warning.rules).toEqual(['index-not-concurrent']);
    expect(warning.blocking).toEqual([]);
  });

  describe('kfm-batch directives', () => {
    const codes = async (text: string, transactional: boolean) =>
      (await preflightPostgis(script(text), declaration({ transactional }), undefined, { catalog, sizes })).checks
        .filter((c) => c.status === 'fail')
        .map((c) => c.code);

    it('batches an UPDATE only without a commit point, and quiets unbatched-backfill', async () => {
      const text =
        "-- kfm-batch: key=id size=5000 pause=100\nUPDATE parcels SET land_use = 'x' WHERE land_use IS NULL;";
      expect(await codes(text, true)).toEqual(['PREFLIGHT_NON_TRANSACTIONAL']);
      expect(await codes(text, false)).toEqual([]);
      const result = await preflightPostgis(script(text), declaration({ transactional: false }), undefined, {
        catalog,
        sizes,
      });
      expect(result.lint ?? []).toEqual([]);
      expect(result.statements[0]?.transactional).toBe(false);
    });

    it.each([
      ['-- kfm-batch: key=id size=0\nUPDATE parcels SET x = 1;', /positive integer/],
      ['-- kfm-batch: size=10\nUPDATE parcels SET x = 1;', /key=<column>/],
      ['-- kfm-batch: key=id size=10 speed=9\nUPDATE parcels SET x = 1;', /does not know speed/],
      ['-- kfm-batch: key=id size=10\nINSERT INTO parcels (id) VALUES (1);', /UPDATE or DELETE only/],
      ['-- kfm-batch: key=id size=10\nDELETE FROM parcels WHERE id < 5 RETURNING id;', /RETURNING/],
    ])('refuses %s with the reason', async (text, reason) => {
      const result = await preflightPostgis(script(text), declaration({ transactional: false }), undefined, {
        catalog,
        sizes,
      });
      const failure = result.checks.find((c) => c.status === 'fail');
      expect(failure?.code).toBe('PREFLIGHT_PARSE');
      expect(failure?.message).toMatch(reason);
    });
  });
});
