import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readPlan } from './operations.js';

const bundle = new URL('../../../migrations/search/SEARCH-MIG-2026-03-05-01/', import.meta.url);
const file = (path: string, value: unknown) => ({
  path,
  text: typeof value === 'string' ? value : JSON.stringify(value, null, 2),
  digest: 'bafkreitest',
});

describe('readPlan', () => {
  it('reads the example bundle plans into located operations', () => {
    const forward = readPlan([file('forward.json', fs.readFileSync(new URL('forward.json', bundle), 'utf8'))]);
    expect(forward.ok && forward.operations.map((o) => [o.operation.op, o.pointer, o.line])).toEqual([
      ['create_index', '/operations/0', 4],
      ['reindex', '/operations/1', 32],
      ['update_aliases', '/operations/2', 39],
    ]);
    const rollback = readPlan([file('rollback.json', fs.readFileSync(new URL('rollback.json', bundle), 'utf8'))]);
    expect(rollback.ok && rollback.operations.map((o) => o.operation.op)).toEqual(['update_aliases', 'delete_index']);
  });

  // lines: the `{` of each operation in the bundle; in the inline plan, the offending key (its parent for a missing one)
  it('points into the plan file: unknown op, aliases at creation, wildcard names, remote reindex', () => {
    const result = readPlan([
      file('forward.json', {
        operations: [
          { op: 'drop_everything' },
          { op: 'create_index', index: 'parcels_v2', body: { aliases: { parcels: {} } } },
          { op: 'update_aliases', body: { actions: [{ add: { index: 'parcels_*', alias: 'parcels' } }] } },
          { op: 'reindex', body: { source: { index: 'a', remote: { host: 'http://x' } }, dest: { index: 'b' } } },
          { op: 'put_mapping', index: 'b' },
        ],
      }),
    ]);
    expect(result.ok).toBe(false);
    const issues = result.ok ? [] : result.issues.map((i) => [i.code, i.pointer, i.line]);
    expect(issues).toEqual([
      ['SCHEMA_ENUM', '/operations/0/op', 4],
      ['SCHEMA_UNKNOWN_FIELD', '/operations/1/body/aliases', 10],
      ['SCHEMA_PATTERN', '/operations/2/body/actions/0/add/index', 21],
      ['SCHEMA_UNKNOWN_FIELD', '/operations/3/body/source/remote', 33],
      ['SCHEMA_REQUIRED', '/operations/4/body', 42],
    ]);
  });

  it('reports invalid JSON with a position and no quoted source', () => {
    const result = readPlan([file('forward.json', '{"operations": [ {"op": "create_index", "index": "a"}, ]}')]);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues[0]).toMatchObject({ code: 'YAML_SYNTAX', file: 'forward.json', line: 1 });
  });
});
