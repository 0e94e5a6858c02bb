// GRAPH-MIG-2026-03-06-01 rollback: restores PRE exactly (verified against the PRE fingerprint).
// Statements run in order: the data rewrite in one transaction, then the schema command.
MATCH (p:Parcel)-[has:HAS_OWNER]->(o:Owner)
CREATE (p)-[owns:OWNS]->(o)
SET owns = properties(has)
DELETE has;

DROP CONSTRAINT parcel_parcel_id_unique IF EXISTS;
