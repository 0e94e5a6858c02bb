import { describe, expect, it } from 'vitest';
import { lexCypher, isSignificant } from './cypher-lexer.js';
import { writeTargets } from './write-targets.js';

const targets = (text: string) => {
  const result = writeTargets(lexCypher(text).tokens.filter(isSignificant));
  return { labels: [...result.labels].sort(), types: [...result.types].sort(), unbound: result.unbound };
};

describe('writeTargets', () => {
  it.each([
    // [statement, written labels, written types, unbound]
    ['MATCH (r:Road) SET r.x = 1', ['Road'], [], []],
    ['MATCH (p:Parcel)-[:ON]->(r:Road) SET r.x = 1', ['Road'], [], []],
    ['MATCH (r:Road) SET r:Archived, r.x = 1 REMOVE r:Active', ['Active', 'Archived', 'Road'], [], []],
    ['MERGE (p:Parcel {id: 1}) ON CREATE SET p.new = true', ['Parcel'], [], []],
    ['MATCH (a:A), (b:B) CREATE (a)-[:T]->(b)', [], ['T'], []],
    ['MATCH (p:P)-[o:OWNS]->(q:Q) CREATE (p)-[h:HAS]->(q) SET h = properties(o) DELETE o', [], ['HAS', 'OWNS'], []],
    ['MATCH (n:Road) WHERE EXISTS { MATCH (n)-[:X]->(m:Parcel) } SET n.z = 1', ['Road'], [], []],
    ['MATCH (p:Parcel) WITH p, count(*) AS c WHERE c > 1 SET p.dup = true', ['Parcel'], [], []],
    ['MATCH (p:Parcel) WITH DISTINCT p ORDER BY p.id LIMIT 10 SET p.top = true', ['Parcel'], [], []],
    ['MATCH (p:Parcel) WITH * SET p.x = 1', ['Parcel'], [], []],
    ["LOAD CSV WITH HEADERS FROM 'file:///x' AS row MATCH (p:Parcel {id: row.id}) SET p.x = row.x", ['Parcel'], [], []],
    ['MATCH (r:Road) CALL { WITH r SET r.x = 1 }', ['Road'], [], []],
    ['MATCH (r:Road) CALL (r) { SET r.x = 1 }', ['Road'], [], []],
    ['MATCH (p:Parcel) CALL { MATCH (q:Parcel) RETURN q } SET q.x = 1', ['Parcel'], [], []],
    ['FOREACH (x IN [1] | CREATE (:Road {id: x}))', ['Road'], [], []],
    ['MATCH (p:Parcel) SET p[$key] = 1', ['Parcel'], [], []],
    // Rebinding: the name means, at the write, what the server resolves it to.
    ['MATCH (p:Parcel)-[:ON]->(r:Road) WITH r AS p SET p.x = 1', ['Road'], [], []],
    ['MATCH (p:Parcel)-[]->(o) WITH o AS p SET p.x = 1', [], [], ['p']],
    ['MATCH (p:Parcel) WITH 1 AS one MATCH (p) SET p.x = 1', [], [], ['p']],
    ['MATCH (p) SET p.x = 1 WITH p MATCH (p:Parcel) RETURN count(p) AS c', [], [], ['p']],
    ['MATCH (p:Parcel) SET p.x = 1 RETURN 1 AS k UNION MATCH (p) SET p.y = 2 RETURN 1 AS k', ['Parcel'], [], ['p']],
    ['MATCH (p:Parcel) CALL { MATCH (p) SET p.x = 1 }', [], [], ['p']],
    ['MATCH (p:Parcel) FOREACH (n IN [p] | SET n.x = 1)', [], [], ['n']],
    ['MATCH (a:Road) WITH collect(a) AS xs UNWIND xs AS y SET y.v = 1', [], [], ['y']],
    ['CALL db.labels() YIELD label AS l MATCH (n) SET n.l = l', [], [], ['n']],
    // A hostile review's ways through (each wrote an Owner through the allowed Parcel name).
    ["MATCH (o WHERE (o:Parcel) AND o.id = 'x' OR o.owner = 'O-2') SET o.name = 'p'", [], [], ['o']],
    ['MATCH (o) WHERE o.owner = 1 OPTIONAL MATCH (o:Parcel) SET o.name = 1', [], [], ['o']],
    ['MATCH (a)-[r]->(b) OPTIONAL MATCH ()-[r:OWNS]->() SET r.m = 1', [], [], ['r']],
    ['MATCH (o) CALL { MATCH (o:Parcel) RETURN o.id AS pid } SET o.name = 1', [], [], ['o']],
    ['OPTIONAL MATCH (p:Parcel) SET p.x = 1', ['Parcel'], [], []],
    ['MATCH (a:P), (b:O) INSERT (a)-[:OWNS]->(b)', [], ['OWNS'], []],
    // Label expressions that match what their names do not describe.
    ['MATCH (n:!Owner) SET n.x = 1', [], [], ['n']],
    ['MATCH (n:%) SET n.x = 1', [], [], ['n']],
    ['MATCH (n:(Parcel|Owner)) SET n.x = 1', [], [], ['n']],
    ['MATCH (n:Road) SET (CASE WHEN n.x > 1 THEN n END).y = 1', [], [], ['(expression)']],
    ["CREATE ({name: 'ghost'})", [], [], ['(anonymous node)']],
  ])('%s', (text, labels, types, unbound) => {
    expect(targets(text)).toEqual({ labels, types, unbound });
  });
});
