import { describe, expect, it } from 'vitest';
import { splitCypher } from './cypher-split.js';
import { statementFacts } from './statement-facts.js';

function facts(text: string) {
  const [statement] = splitCypher(text).statements;
  if (!statement) throw new Error('no statement');
  return statementFacts(statement);
}

describe('statementFacts', () => {
  it('classifies schema commands as non-transactional and reads their label and name', () => {
    const created = facts(
      'CREATE CONSTRAINT parcel_id_unique IF NOT EXISTS FOR (p:Parcel) REQUIRE p.parcel_id IS UNIQUE',
    );
    expect(created).toMatchObject({
      kind: 'create_constraint',
      schema: true,
      transactional: false,
      data: false,
      labels: ['Parcel'],
      schemaName: 'parcel_id_unique',
    });
    expect(facts('DROP CONSTRAINT parcel_id_unique IF EXISTS')).toMatchObject({
      kind: 'drop_constraint',
      schema: true,
      destructive: true,
      labels: [],
      schemaName: 'parcel_id_unique',
    });
    expect(facts('CREATE TEXT INDEX FOR (n:Owner) ON (n.name)')).toMatchObject({
      kind: 'create_index',
      labels: ['Owner'],
    });
    expect(facts('CREATE INDEX IF NOT EXISTS FOR ()-[r:OWNS]-() ON (r.since)')).toMatchObject({
      kind: 'create_index',
      relationshipTypes: ['OWNS'],
      labels: [],
    });
    expect(facts('create or replace fulltext index ft for (n:A|B) on each [n.x]')).toMatchObject({
      kind: 'create_index',
      labels: ['A', 'B'],
    });
  });

  it('reads labels and relationship types from patterns and label expressions', () => {
    const rewrite = facts(
      'MATCH (p:Parcel)-[r:OWNS]->(o:Owner) CREATE (p)-[n:HAS_OWNER]->(o) SET n = properties(r) DELETE r',
    );
    expect(rewrite).toMatchObject({
      kind: 'data',
      transactional: true,
      data: true,
      destructive: true,
      labels: ['Owner', 'Parcel'],
      relationshipTypes: ['HAS_OWNER', 'OWNS'],
    });
    expect(facts('MATCH (a:A:B)-[:T|:U]->(b:C&D)<-[:V|W*1..3]-(c:`Odd Label`) RETURN a')).toMatchObject({
      labels: ['A', 'B', 'C', 'D', 'Odd Label'],
      relationshipTypes: ['T', 'U', 'V', 'W'],
    });
    expect(facts('MATCH (n) WHERE n:Parcel SET n:Checked REMOVE n:Stale')).toMatchObject({
      labels: ['Checked', 'Parcel', 'Stale'],
    });
  });

  it('ignores map keys, strings and comments', () => {
    const result = facts(
      "MATCH (n:Parcel {parcel_id: 'x:Secret'}) // :AuthoritySite\nSET n += {note: ':Hidden', AuthoritySite: 1} RETURN n {.name, alias: n.x}",
    );
    expect(result.labels).toEqual(['Parcel']);
    expect(result.relationshipTypes).toEqual([]);
  });

  it('finds names inside subqueries, EXISTS and COUNT blocks', () => {
    const result = facts(
      'MATCH (n:Parcel) WHERE EXISTS { MATCH (n)-[:PROVENANCE]->(:Provenance) } AND COUNT { (n)--(:Owner) } > 0 CALL { WITH n MATCH (n)-[:X]->(m) RETURN m } RETURN n',
    );
    expect(result.labels).toEqual(['Owner', 'Parcel', 'Provenance']);
    expect(result.relationshipTypes).toEqual(['PROVENANCE', 'X']);
  });

  it('treats a list comprehension bar as a bar, not a label alternative', () => {
    expect(facts('MATCH (n) RETURN [x IN nodes WHERE x:Parcel | x.name] AS names').labels).toEqual(['Parcel']);
  });

  it('marks batched statements and autocommit procedures as non-transactional', () => {
    expect(facts('MATCH (n:A) CALL { WITH n SET n.x = 1 } IN TRANSACTIONS OF 100 ROWS')).toMatchObject({
      kind: 'data_batched',
      transactional: false,
      data: true,
    });
    expect(facts("CALL apoc.periodic.iterate('MATCH (n) RETURN n', 'SET n.x = 1', {})")).toMatchObject({
      kind: 'procedure_autocommit',
      transactional: false,
    });
  });

  it('recognises administration and SHOW commands', () => {
    expect(facts('CREATE DATABASE other')).toMatchObject({ kind: 'admin', transactional: false });
    expect(facts('CREATE OR REPLACE USER bob SET PASSWORD $p')).toMatchObject({ kind: 'admin' });
    expect(facts('GRANT ROLE admin TO bob')).toMatchObject({ kind: 'admin' });
    expect(facts('SHOW INDEXES')).toMatchObject({ kind: 'show', data: false, transactional: true });
  });

  it('flags dynamic labels that cannot be known before the run', () => {
    expect(facts('MATCH (n) SET n:$($label)').dynamicNames).toBe(true);
    expect(facts('MATCH (n:A) RETURN n').dynamicNames).toBe(false);
  });

  it('treats a read-only statement as data: false', () => {
    expect(facts('MATCH (n:A) RETURN count(n)')).toMatchObject({ kind: 'data', data: false, destructive: false });
  });
});
