import type { MigrationDeclaration, ScriptFile } from '@kfm/migration-contracts';
import { describe, expect, it } from 'vitest';
import { preflightGraph } from './preflight.js';

const declaration = (overrides: Partial<MigrationDeclaration> = {}): MigrationDeclaration => ({
  migration_id: 'GRAPH-MIG-2026-03-06-01',
  type: 'graph',
  intent: 'test',
  scope: { allowed_labels: ['Parcel', 'Owner'], allowed_relationship_types: ['OWNS', 'HAS_OWNER'], forbidden_labels: ['AuthoritySite'], forbidden_relationship_types: ['DERIVED_*'] },
  limits: {},
  requires_rollback: true,
  approvals: {},
  runner: {},
  artifacts: { forward: ['forward.cypher'] },
  ...overrides,
});

const forward = (text: string): ScriptFile[] => [{ path: 'forward.cypher', text, digest: 'bafkreitest' }];
const failing = (result: ReturnType<typeof preflightGraph>) => result.checks.filter((c) => c.status === 'fail').map((c) => c.code);

describe('preflightGraph', () => {
  it('passes a data rewrite inside scope and predicts the names it touches', () => {
    const result = preflightGraph(forward('MATCH (p:Parcel)-[r:OWNS]->(o:Owner)\nCREATE (p)-[:HAS_OWNER]->(o) DELETE r;'), declaration());
    expect(failing(result)).toEqual([]);
    expect(result.predicted).toEqual({ labels: ['Owner', 'Parcel'], relationship_types: ['HAS_OWNER', 'OWNS'] });
    expect(result.statements).toEqual([
      {
        index: 0, file: 'forward.cypher', line: 1, kind: 'data', transactional: true, destructive: true, data: true,
        objects: [{ labels: 'Owner' }, { labels: 'Parcel' }, { relationship_types: 'HAS_OWNER' }, { relationship_types: 'OWNS' }],
      },
    ]);
  });

  it('stops a statement naming a forbidden label or relationship type (patterns included)', () => {
    const result = preflightGraph(forward('MATCH (p:Parcel)\n-[:DERIVED_FROM]->(:Provenance), (a:AuthoritySite) RETURN p;'), declaration());
    expect(failing(result)).toEqual(['PREFLIGHT_FORBIDDEN', 'PREFLIGHT_FORBIDDEN']);
    expect(result.checks.map((c) => c.observed)).toEqual(['AuthoritySite', 'DERIVED_FROM']);
  });

  it('ignores names that only appear in strings and comments', () => {
    const result = preflightGraph(forward("// touches :AuthoritySite? no\nMATCH (p:Parcel) SET p.note = ':AuthoritySite [:DERIVED_FROM]';"), declaration());
    expect(failing(result)).toEqual([]);
  });

  it('stops a protected label without approvals.exception_ref, and allows it with one', () => {
    const text = forward("MATCH (s:Site) SET s.flag = true;");
    const domains = { labels: [{ label: 'Si*', key: 'site_id' }] };
    expect(failing(preflightGraph(text, declaration(), { protected: domains }))).toEqual(['PREFLIGHT_FORBIDDEN']);
    const approved = preflightGraph(text, declaration({ approvals: { exception_ref: 'GOV-42' } }), { protected: domains });
    expect(failing(approved)).toEqual([]);
    expect(approved.checks.find((c) => c.name.startsWith('preflight:protected'))?.message).toContain('GOV-42');
  });

  it('requires transactional: false for schema commands and batched statements', () => {
    const text = forward('CREATE CONSTRAINT c FOR (p:Parcel) REQUIRE p.parcel_id IS UNIQUE;\nMATCH (p:Parcel) CALL { WITH p SET p.x = 1 } IN TRANSACTIONS;');
    const transactional = preflightGraph(text, declaration());
    expect(failing(transactional)).toEqual(['PREFLIGHT_NON_TRANSACTIONAL', 'PREFLIGHT_NON_TRANSACTIONAL']);
    expect(transactional.checks[0]?.message).toMatch(/^forward.cypher:1 a schema command/);
    expect(failing(preflightGraph(text, declaration({ transactional: false })))).toEqual([]);
  });

  it('stops administration commands', () => {
    expect(failing(preflightGraph(forward('CREATE USER mallory SET PASSWORD $p;'), declaration({ transactional: false })))).toEqual(['PREFLIGHT_FORBIDDEN']);
  });

  it('reports an unterminated string as PREFLIGHT_PARSE with its position', () => {
    const result = preflightGraph(forward("RETURN 1;\nMATCH (p:Parcel {id: 'open}) RETURN p;"), declaration());
    expect(result.checks).toEqual([{ name: 'preflight:parse', rule: 'preflight', status: 'fail', code: 'PREFLIGHT_PARSE', message: 'forward.cypher:2:22 unterminated string literal' }]);
  });
});
