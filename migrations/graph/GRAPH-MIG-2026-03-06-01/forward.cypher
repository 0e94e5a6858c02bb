// GRAPH-MIG-2026-03-06-01 forward.
// 1. Schema command (auto-commit): parcel ids become unique. Fails, changing nothing, if the
//    graph holds duplicate ids — deduplicate in an earlier migration.
CREATE CONSTRAINT parcel_parcel_id_unique IF NOT EXISTS
FOR (p:Parcel) REQUIRE p.parcel_id IS UNIQUE;

// 2. Data rewrite (one transaction, checked before COMMIT): every OWNS becomes a HAS_OWNER
//    between the same nodes with the same properties (e.g. `share`).
MATCH (p:Parcel)-[owns:OWNS]->(o:Owner)
CREATE (p)-[has:HAS_OWNER]->(o)
SET has = properties(owns)
DELETE owns;
