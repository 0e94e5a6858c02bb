import type { MigrationDeclaration, ScriptFile } from '@kfm/migration-contracts';
import { describe, expect, it } from 'vitest';
import { preflightGraph } from './preflight.js';

const declaration = (overrides: Partial<MigrationDeclaration> = {}): MigrationDeclaration => ({
  migration_id: 'GRAPH-MIG-2026-03-06-01',
  type: 'graph',
  intent: 'test',
  scope: {
    allowed_labels: ['Parcel', 'Owner'],
    allowed_relationship_types: ['OWNS', 'HAS_OWNER'],
    forbidden_labels: ['AuthoritySite'],
    forbidden_relationship_types: ['DERIVED_*'],
  },
  limits: {},
  requires_rollback: true,
  approvals: {},
  runner: {},
  artifacts: { forward: ['forward.cypher'] },
  ...overrides,
});

const forward = (text: string): ScriptFile[] => [{ path: 'forward.cypher', text, digest: 'bafkreitest' }];
const failing = (result: ReturnType<typeof preflightGraph>) =>
  result.checks.filter((c) => c.status === 'fail').map((c) => c.code);

describe('preflightGraph', () => {
  it('passes a data rewrite inside scope and predicts the names it touches', () => {
    const result = preflightGraph(
      forward('MATCH (p:Parcel)-[r:OWNS]->(o:Owner)\nCREATE (p)-[:HAS_OWNER]->(o) DELETE r;'),
      declaration(),
    );
    expect(failing(result)).toEqual([]);
    expect(result.predicted).toEqual({ labels: ['Owner', 'Parcel'], relationship_types: ['HAS_OWNER', 'OWNS'] });
    expect(result.statements).toEqual([
      {
        index: 0,
        file: 'forward.cypher',
        line: 1,
        kind: 'data',
        transactional: true,
        destructive: true,
        data: true,
        objects: [
          { labels: 'Owner' },
          { labels: 'Parcel' },
          { relationship_types: 'HAS_OWNER' },
          { relationship_types: 'OWNS' },
        ],
      },
    ]);
  });

  it('stops a statement naming a forbidden label or relationship type (patterns included)', () => {
    const result = preflightGraph(
      forward('MATCH (p:Parcel)\n-[:DERIVED_FROM]->(:Provenance), (a:AuthoritySite) RETURN p;'),
      declaration(),
    );
    expect(failing(result)).toEqual(['PREFLIGHT_FORBIDDEN', 'PREFLIGHT_FORBIDDEN']);
    expect(result.checks.map((c) => c.observed)).toEqual(['AuthoritySite', 'DERIVED_FROM']);
  });

  it('ignores names that only appear in strings and comments', () => {
    const result = preflightGraph(
      forward("// touches :AuthoritySite? no\nMATCH (p:Parcel) SET p.note = ':AuthoritySite [:DERIVED_FROM]';"),
      declaration(),
    );
    expect(failing(result)).toEqual([]);
  });

  it('stops a protected label without approvals.exception_ref, and allows it with one', () => {
    const text = forward('MATCH (s:Site) SET s.flag = true;');
    const domains = { labels: [{ label: 'Si*', key: 'site_id' }] };
    // Site is in scope: the only question is the protection.
    const scope = { ...declaration().scope, allowed_labels: ['Parcel', 'Owner', 'Site'] };
    expect(failing(preflightGraph(text, declaration({ scope }), { protected: domains }))).toEqual([
      'PREFLIGHT_FORBIDDEN',
    ]);
    const approved = preflightGraph(text, declaration({ scope, approvals: { exception_ref: 'GOV-42' } }), {
      protected: domains,
    });
    expect(failing(approved)).toEqual([]);
    expect(approved.checks.find((c) => c.name.startsWith('preflight:protected'))?.message).toContain('GOV-42');
  });

  it('requires transactional: false for schema commands and batched statements', () => {
    const text = forward(
      'CREATE CONSTRAINT c FOR (p:Parcel) REQUIRE p.parcel_id IS UNIQUE;\nMATCH (p:Parcel) CALL { WITH p SET p.x = 1 } IN TRANSACTIONS;',
    );
    const transactional = preflightGraph(text, declaration());
    expect(failing(transactional)).toEqual(['PREFLIGHT_NON_TRANSACTIONAL', 'PREFLIGHT_NON_TRANSACTIONAL']);
    expect(transactional.checks[0]?.message).toMatch(/^forward.cypher:1 a schema command/);
    // Without a commit point, batches commit on their own: only a policy exception lets them through.
    expect(
      preflightGraph(text, declaration({ transactional: false }))
        .checks.filter((c) => c.status === 'fail')
        .map((c) => c.observed),
    ).toEqual(['batched-write']);
    expect(
      failing(preflightGraph(text, declaration({ transactional: false }), { allowedRules: ['batched-write'] })),
    ).toEqual([]);
  });

  it('stops administration commands', () => {
    expect(
      failing(preflightGraph(forward('CREATE USER mallory SET PASSWORD $p;'), declaration({ transactional: false }))),
    ).toEqual(['PREFLIGHT_FORBIDDEN']);
  });

  it('reports an unterminated string as PREFLIGHT_PARSE with its position', () => {
    const result = preflightGraph(forward("RETURN 1;\nMATCH (p:Parcel {id: 'open}) RETURN p;"), declaration());
    expect(result.checks).toEqual([
      {
        name: 'preflight:parse',
        rule: 'preflight',
        status: 'fail',
        code: 'PREFLIGHT_PARSE',
        message: 'forward.cypher:2:22 unterminated string literal',
      },
    ]);
  });

  describe('writes preflight cannot attribute to the scope', () => {
    const refused = (text: string, transactional = true, allowedRules: string[] = []) =>
      preflightGraph(forward(text), declaration({ transactional }), { allowedRules })
        .checks.filter((c) => c.status === 'fail')
        .map((c) => c.observed);

    it.each([
      ["MATCH (n) WHERE n.oid = 'O1' SET n.oid = 'O1-moved'", 'unlabeled-write'],
      ["MATCH (p:Parcel)-[:OWNS]->(o) SET o.oid = 'x'", 'unlabeled-write'],
      ['MATCH (p:Parcel)-[r]->(:Owner) DELETE r', 'unlabeled-write'],
      ['MATCH (p:Parcel)-[:OWNS]->(o) WITH o AS p SET p.x = 1', 'unlabeled-write'],
      ['MATCH (p:Parcel) WITH 1 AS one MATCH (p) SET p.x = 1', 'unlabeled-write'],
      ['MATCH (n:!Owner) SET n.x = 1', 'unlabeled-write'],
      ["CREATE (n {name: 'ghost'})", 'unlabeled-write'],
      ["CREATE ({name: 'ghost'})", 'unlabeled-write'],
      ['MATCH (p:Parcel) SET p:$($label)', 'dynamic-label'],
    ])('refuses %s in every run [%s]', (text, rule) => {
      expect(refused(text)).toContain(rule);
      expect(refused(text, false)).toContain(rule);
    });

    it('refuses procedures that may write in every run, and lets read-only ones through', () => {
      const writing = "MATCH (p:Parcel) CALL apoc.create.addLabels(p, ['Owner']) YIELD node RETURN node";
      expect(refused(writing)).toContain('procedure-call');
      expect(refused(writing, false)).toContain('procedure-call');
      expect(refused(writing, true, ['procedure-call'])).not.toContain('procedure-call');
      expect(refused('CALL db.labels() YIELD label RETURN label')).toEqual([]);
    });

    it.each([
      ["LOAD CSV FROM 'file:///x.csv' AS row MERGE (p:Parcel {parcel_id: row[0]})", 'load-csv'],
      ['CALL db.labels() YIELD label RETURN label', 'procedure-call'],
    ])('refuses %s without a commit point [%s]', (text, rule) => {
      expect(refused(text, false)).toContain(rule);
      expect(refused(text, true)).not.toContain(rule);
      expect(refused(text, false, [rule])).not.toContain(rule);
    });

    it('lets writes through variables that a label or type binds', () => {
      expect(
        refused('MATCH (p:Parcel)-[r:OWNS]->(o:Owner) SET p.x = 1, r.share = 0.5 REMOVE o.tmp DETACH DELETE o'),
      ).toEqual([]);
      expect(
        refused('MATCH (p:Parcel) MATCH (o:Owner) MERGE (p)-[h:HAS_OWNER]->(o) ON CREATE SET h.since = 1'),
      ).toEqual([]);
      expect(refused("CREATE (n:Parcel {parcel_id: 'P9'}) SET n.area = count(*)")).toEqual([]);
    });
  });
});

describe('preflightGraph: writes outside the allowed scope', () => {
  const refused = (text: string, overrides: Partial<MigrationDeclaration> = {}) =>
    preflightGraph(forward(text), declaration(overrides)).checks.filter(
      (c) => c.status === 'fail' && c.name.startsWith('preflight:scope:'),
    );

  it.each([
    ['MATCH (r:Road) SET r.toll = r.toll + 1;', 'Road', '/scope/allowed_labels'],
    ['MATCH (p:Parcel)-[:ON]->(r:Road) SET r.x = 1;', 'Road', '/scope/allowed_labels'],
    ['MATCH (p:Parcel) SET p:Archived;', 'Archived', '/scope/allowed_labels'],
    ['MATCH (p:Parcel) REMOVE p:Owner:Active;', 'Active', '/scope/allowed_labels'],
    ['CREATE (:Road {road_id: 1});', 'Road', '/scope/allowed_labels'],
    ['MATCH (r:Road) DETACH DELETE r;', 'Road', '/scope/allowed_labels'],
    ['MATCH (p:Parcel), (o:Owner) MERGE (p)-[:NEIGHBOUR]->(o);', 'NEIGHBOUR', '/scope/allowed_relationship_types'],
    ['MATCH ()-[w:WITHIN_ROAD]->() SET w.since = 1;', 'WITHIN_ROAD', '/scope/allowed_relationship_types'],
    ['MATCH (p:Parcel) CALL { WITH p MATCH (p)-[:ON]->(r:Road) SET r.x = 1 };', 'Road', '/scope/allowed_labels'],
    ['MATCH (p:Parcel) FOREACH (x IN [1] | CREATE (:Road {id: x}));', 'Road', '/scope/allowed_labels'],
    ['CREATE INDEX road_x FOR (r:Road) ON (r.x);', 'Road', '/scope/allowed_labels'],
  ])('refuses %s', (text, name, pointer) => {
    const checks = refused(text, { transactional: !text.startsWith('CREATE INDEX') });
    expect(checks.map((c) => [c.code, c.observed, c.pointer])).toEqual([['PREFLIGHT_FORBIDDEN', name, pointer]]);
    expect(checks[0]?.message).toMatch(/^forward\.cypher:1 writes/);
  });

  it('lets a statement read labels it does not write', () => {
    expect(refused('MATCH (r:Road)<-[:ON]-(p:Parcel) SET p.on_road = true;')).toEqual([]);
    expect(refused('MATCH (n:Parcel) WHERE EXISTS { (n)-[:ON]->(:Road) } SET n.x = 1;')).toEqual([]);
    expect(refused('MATCH (r:Road) RETURN count(r);')).toEqual([]);
    // Creating a relationship writes its type, not the labels of the nodes it joins.
    expect(refused('MATCH (p:Parcel), (o:Owner) CREATE (p)-[:OWNS]->(o);')).toEqual([]);
  });

  it('with no allowed_* key, nothing of that dimension may be written', () => {
    const scope = { allowed_labels: ['Parcel', 'Owner'] };
    const checks = refused('MATCH (p:Parcel), (o:Owner) CREATE (p)-[:OWNS]->(o);', { scope });
    expect(checks.map((c) => [c.observed, c.declared])).toEqual([['OWNS', null]]);
    expect(checks[0]?.message).toContain('no scope.allowed_relationship_types');
  });

  it('finds writes inside CALL subqueries and FOREACH bodies that no label binds', () => {
    for (const text of ['CALL { MATCH (q) SET q.x = 1 };', 'MATCH (p:Parcel) FOREACH (n IN [p] | SET n.x = 1);']) {
      const result = preflightGraph(forward(text), declaration());
      expect(result.checks.find((c) => c.status === 'fail')?.name, text).toMatch(/unlabeled-write/);
    }
  });
});
