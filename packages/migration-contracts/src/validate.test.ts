// Mapping Ajv's errors to stable Issues (code, pointer, expected, found) and keeping secrets out.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseYaml } from './document.js';
import { describe as describeValue, looksLikeCredential, schemaId, schemaNames, validateValue } from './validate.js';
import { redactIssue } from './credentials.js';
import { schemasByName } from './generated/schemas.js';

/** A declaration that validates; each test breaks one thing. */
function declaration(): Record<string, unknown> {
  return {
    migration_id: 'PG-MIG-2026-02-28-01',
    type: 'postgis',
    intent: 'Add a spatial index',
    scope: { allowed_schemas: ['public'], allowed_tables: ['parcels'] },
    limits: { max_index_count_delta: 1 },
    requires_rollback: true,
    approvals: { required_reviewers: ['kfm-platform'] },
    runner: { tool: 'kfm-migrate', environment: ['KFM_PG_DSN'] },
    artifacts: { forward: ['forward.sql'], rollback: ['rollback.sql'] },
  };
}

function withChange(change: (d: Record<string, any>) => void): Record<string, unknown> {
  const d = declaration();
  change(d);
  return d;
}

describe('validateValue maps schema errors to stable issues', () => {
  it('accepts the baseline declaration', () => {
    expect(validateValue('migration_declaration.v1', declaration())).toEqual([]);
  });

  it.each([
    [
      'a missing field',
      (d: any) => delete d.intent,
      { code: 'SCHEMA_REQUIRED', pointer: '/intent', expected: 'a value for intent', found: 'nothing' },
    ],
    [
      'a wrong type',
      (d: any) => (d.requires_rollback = 'yes'),
      { code: 'SCHEMA_TYPE', pointer: '/requires_rollback', expected: 'boolean', found: '"yes"' },
    ],
    [
      'a type that is no store type name',
      (d: any) => (d.type = 'Mongo DB'),
      { code: 'SCHEMA_PATTERN', pointer: '/type', found: '"Mongo DB"' },
    ],
    [
      'an unknown enum value',
      (d: any) => (d.invariants = { required_relationships: [{ label: 'A', type: 'B', direction: 'sideways' }] }),
      {
        code: 'SCHEMA_ENUM',
        pointer: '/invariants/required_relationships/0/direction',
        expected: 'one of "out", "in", "any"',
        found: '"sideways"',
      },
    ],
    [
      'a limit that is not a safe integer',
      (d: any) => (d.limits.max_index_count_delta = 1e300),
      { code: 'SCHEMA_MAXIMUM', pointer: '/limits/max_index_count_delta' },
    ],
    [
      'a lock timeout of zero',
      (d: any) => (d.runner.lock_timeout = '0s'),
      { code: 'SCHEMA_PATTERN', pointer: '/runner/lock_timeout' },
    ],
    [
      'a negative limit',
      (d: any) => (d.limits.max_index_count_delta = -2),
      {
        code: 'SCHEMA_MINIMUM',
        pointer: '/limits/max_index_count_delta',
        expected: 'a number >= 0',
        found: 'number -2',
      },
    ],
    [
      'duplicate reviewers',
      (d: any) => (d.approvals.required_reviewers = ['a', 'b', 'a']),
      { code: 'SCHEMA_UNIQUE', pointer: '/approvals/required_reviewers', found: 'items 0 and 2 are equal' },
    ],
    [
      'an empty intent',
      (d: any) => (d.intent = ''),
      { code: 'SCHEMA_LENGTH', pointer: '/intent', expected: 'at least 1 characters', found: '""' },
    ],
    ['an unknown field', (d: any) => (d.rollout = 'canary'), { code: 'SCHEMA_UNKNOWN_FIELD', pointer: '/rollout' }],
    [
      'an unknown limit',
      (d: any) => (d.limits.max_coffee = 1),
      { code: 'LIMIT_UNKNOWN', pointer: '/limits/max_coffee' },
    ],
    [
      'a limit of another store',
      (d: any) => (d.limits.max_docs_reindexed = 1),
      {
        code: 'LIMIT_UNKNOWN',
        pointer: '/limits/max_docs_reindexed',
        expected: 'a limits key defined for postgis',
        found: 'max_docs_reindexed',
      },
    ],
    [
      'a scope key of another store',
      (d: any) => (d.scope.allowed_labels = ['Parcel']),
      { code: 'SCOPE_KEY_NOT_FOR_TYPE', pointer: '/scope/allowed_labels', expected: 'a scope key defined for postgis' },
    ],
    [
      'an id of another type',
      (d: any) => (d.migration_id = 'GRAPH-MIG-2026-02-28-01'),
      {
        code: 'MIGRATION_ID_TYPE_MISMATCH',
        pointer: '/migration_id',
        expected: 'prefix PG-MIG- for type postgis',
        found: '"GRAPH-MIG-2026-02-28-01"',
      },
    ],
    [
      'a rollback not listed',
      (d: any) => delete d.artifacts.rollback,
      { code: 'ROLLBACK_ARTIFACT_MISSING', pointer: '/artifacts/rollback' },
    ],
    [
      'an empty rollback list',
      (d: any) => (d.artifacts.rollback = []),
      { code: 'ROLLBACK_ARTIFACT_MISSING', pointer: '/artifacts/rollback' },
    ],
    [
      'irreversible without a reference',
      (d: any) => {
        d.requires_rollback = false;
        delete d.artifacts.rollback;
      },
      { code: 'IRREVERSIBLE_WITHOUT_APPROVAL', pointer: '/approvals/irreversibility_ref' },
    ],
    [
      'a bad environment variable name',
      (d: any) => (d.runner.environment = ['KFM-PG-DSN']),
      { code: 'SCHEMA_PATTERN', pointer: '/runner/environment/0', found: '"KFM-PG-DSN"' },
    ],
  ])('%s', (_name, change, expected) => {
    const issues = validateValue('migration_declaration.v1', withChange(change));
    expect(issues).toContainEqual(expect.objectContaining(expected));
    for (const issue of issues) expect(issue.message.length).toBeGreaterThan(0);
  });

  it('reports a malformed id once, as a pattern error, not also as a type mismatch', () => {
    const issues = validateValue(
      'migration_declaration.v1',
      withChange((d) => (d.migration_id = 'pg-mig-1')),
    );
    expect(issues.map((i) => i.code)).toEqual(['SCHEMA_PATTERN']);
  });

  it('maps const and format keywords on artifact schemas', () => {
    const ref = {
      kfm_receipt_ref_version: 'v2',
      run_id: 'kfm://run/x.migration.PG-MIG-2026-02-28-01.abc',
      migration_id: 'PG-MIG-2026-02-28-01',
      receipt_digest: 'sha256:' + '0'.repeat(64),
      location: 's3://bucket/r.json',
      stored_at: 'yesterday',
    };
    const issues = validateValue('receipt_ref.v1', ref);
    expect(issues).toContainEqual(
      expect.objectContaining({
        code: 'SCHEMA_CONST',
        pointer: '/kfm_receipt_ref_version',
        expected: '"v1"',
        found: '"v2"',
      }),
    );
    expect(issues).toContainEqual(
      expect.objectContaining({
        code: 'SCHEMA_FORMAT',
        pointer: '/stored_at',
        expected: 'date-time',
        found: '"yesterday"',
      }),
    );
  });

  it('adds file, line and column when given the parsed document', () => {
    const text =
      'migration_id: PG-MIG-2026-02-28-01\ntype: postgis\nintent: x\nscope: {}\nlimits:\n  max_row_backfill: -1\nrequires_rollback: false\napprovals: {}\nrunner: {}\nartifacts: {forward: [f.sql]}\n';
    const parsed = parseYaml(text, 'migration.yml');
    if (!parsed.ok) throw new Error('fixture text must parse');
    const issues = validateValue('migration_declaration.v1', parsed.document.value, parsed.document);
    expect(issues).toContainEqual(
      expect.objectContaining({
        code: 'SCHEMA_MINIMUM',
        file: 'migration.yml',
        pointer: '/limits/max_row_backfill',
        line: 6,
        column: 3,
      }),
    );
    expect(issues).toContainEqual(
      expect.objectContaining({
        code: 'IRREVERSIBLE_WITHOUT_APPROVAL',
        pointer: '/approvals/irreversibility_ref',
        line: 8,
        column: 1,
      }),
    );
  });

  it('encodes field names in pointers and never puts a credential key into one', () => {
    const slashed = validateValue(
      'migration_declaration.v1',
      withChange((d) => (d.runner['a/b~c'] = 1)),
    );
    expect(slashed).toContainEqual(
      expect.objectContaining({ code: 'SCHEMA_UNKNOWN_FIELD', pointer: '/runner/a~1b~0c' }),
    );
    const secretKey = validateValue(
      'migration_declaration.v1',
      withChange((d) => (d.runner['postgres://svc:hunter2@db/x'] = 'KFM_PG_DSN')),
    );
    expect(secretKey).toContainEqual(expect.objectContaining({ pointer: '/runner' }));
    expect(JSON.stringify(secretKey)).not.toContain('hunter2');
  });

  it('never echoes a credential found where a variable name belongs', () => {
    const issues = validateValue(
      'migration_declaration.v1',
      withChange((d) => (d.runner.environment = ['postgres://svc:hunter2@db/x'])),
    );
    expect(issues).toContainEqual(
      expect.objectContaining({
        pointer: '/runner/environment/0',
        found: 'a string of 27 characters that looks like a credential (not shown)',
      }),
    );
    expect(JSON.stringify(issues)).not.toContain('hunter2');
  });
});

describe('describe', () => {
  it.each([
    'postgres://svc:hunter2@db.internal:5432/kfm',
    'https://elastic:hunter2@es.local:9200',
    'password=hunter2',
    'api_key: hunter2',
    'Token=hunter2',
    '-----BEGIN RSA PRIVATE KEY-----\nhunter2\n-----END RSA PRIVATE KEY-----',
    'AKIAIOSFODNN7EXAMPLE',
  ])('never echoes the credential in %j', (secret) => {
    const text = describeValue(secret);
    expect(text).toBe(`a string of ${secret.length} characters that looks like a credential (not shown)`);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('AKIA');
  });

  it('shows ordinary values, truncating long strings', () => {
    expect(describeValue('KFM_PG_DSN')).toBe('"KFM_PG_DSN"');
    expect(describeValue('x'.repeat(100))).toBe(`"${'x'.repeat(57)}…"`);
    expect(describeValue(undefined)).toBe('nothing');
    expect(describeValue(null)).toBe('null');
    expect(describeValue([1, 2, 3])).toBe('an array of 3');
    expect(describeValue({ password: 'hunter2' })).toBe('an object');
    expect(describeValue(3)).toBe('number 3');
    expect(describeValue(false)).toBe('boolean false');
  });
});

describe('looksLikeCredential', () => {
  it.each([
    'KFM_PG_DSN',
    'postgres://db.internal/kfm',
    'https://example.org/a:b',
    'scripts/migrate.sh',
    'Add a password column to users',
  ])('is false for %j', (text) => {
    expect(looksLikeCredential(text)).toBe(false);
  });
  it.each(['postgres://svc:hunter2@db/x', 'mongodb+srv://u:p@cluster0', 'secret: s3cr3t', 'pwd=x'])(
    'is true for %j',
    (text) => {
      expect(looksLikeCredential(text)).toBe(true);
    },
  );
});

describe('redactIssue', () => {
  it('leaves a clean issue untouched and cuts a credential pointer back to a clean ancestor', () => {
    const clean = { code: 'SCHEMA_TYPE', pointer: '/a/b', message: 'wrong type' } as const;
    expect(redactIssue(clean)).toEqual({ issue: clean, redacted: false });
    const leaky = {
      code: 'SCHEMA_UNKNOWN_FIELD',
      pointer: '/runner/postgres:~1~1svc:hunter2@db~1x',
      message: 'unknown field `postgres://svc:hunter2@db/x`',
    } as const;
    const { issue, redacted } = redactIssue(leaky);
    expect(redacted).toBe(true);
    expect(issue.pointer).toBe('/runner');
    expect(JSON.stringify(issue)).not.toContain('hunter2');
  });
});

describe('schemas', () => {
  it('names every schema of the repository schemas/ folder, and its $id', () => {
    const files = readdirSync(new URL('../../../schemas/', import.meta.url)).filter((f) => f.endsWith('.schema.json'));
    expect([...schemaNames].sort()).toEqual(files.map((f) => f.replace(/\.schema\.json$/, '')).sort());
    expect(schemaNames).toContain('migration_declaration.v1');
    expect(schemaId('migration_declaration.v1')).toBe(
      'https://schemas.kfm.dev/migrations/migration_declaration.v1.schema.json',
    );
  });
});

describe('precompiled validators', () => {
  const dir = fileURLToPath(new URL('./generated/validators/', import.meta.url));

  it('are one module per schema, and loading one loads no other', () => {
    expect(readdirSync(dir).sort()).toEqual(schemaNames.map((name) => `${name}.cjs`).sort());
    const loaded = execFileSync(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(`${dir}policy.v1.cjs`)});
         console.log(JSON.stringify(Object.keys(require.cache).filter((f) => f.startsWith(${JSON.stringify(dir)}))))`,
      ],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(loaded)).toEqual([`${dir}policy.v1.cjs`]);
  });

  it('decide as the schemas compiled at run time do', () => {
    const requireCjs = createRequire(import.meta.url);
    const { Ajv2020 } = requireCjs('ajv/dist/2020.js');
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    requireCjs('ajv-formats')(ajv);
    for (const schema of Object.values(schemasByName)) ajv.addSchema(schema);
    const values = [{}, [], null, 'x', declaration(), withChange((d) => delete d.intent), { migration_id: 7 }];
    const outcome = (
      validate: { (value: unknown): boolean; errors?: { instancePath: string; keyword: string }[] | null },
      value: unknown,
    ) => (validate(value) ? 'valid' : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`).sort());
    for (const name of schemaNames) {
      const precompiled = requireCjs(`${dir}${name}.cjs`).validate;
      const runtime = ajv.getSchema(schemaId(name));
      for (const value of values) expect([name, outcome(precompiled, value)]).toEqual([name, outcome(runtime, value)]);
    }
    // The valid declaration is valid for its own schema on both paths: the comparison is not of two refusals.
    expect(requireCjs(`${dir}migration_declaration.v1.cjs`).validate(declaration())).toBe(true);
  });
});
