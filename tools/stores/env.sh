# shellcheck shell=bash
# Source this file (". tools/stores/env.sh") to get connection settings for the local stores that
# tools/stores/up.sh runs. Every variable is only set when it is unset, so to point the tools at your own
# servers, export your values before sourcing (or instead of sourcing) this file.

# PostgreSQL + PostGIS (trust auth on 127.0.0.1; user = the OS user, which up.sh creates as a role)
: "${KFM_PG_DSN:=postgres://127.0.0.1:5432/kfm_demo}"
: "${KFM_PG_ADMIN_DSN:=postgres://postgres@127.0.0.1:5432/postgres}"
# Elasticsearch (HTTP, no security)
: "${KFM_ES_URL:=http://127.0.0.1:9200}"
# OpenSearch (HTTP, no security plugin), the second search engine every search test also runs against
: "${KFM_OS_URL:=http://127.0.0.1:9201}"
# The multi-node search cluster (up.sh --search-nodes 3; npm run test:cluster): one URL per node
: "${KFM_SEARCH_CLUSTER_URLS:=http://127.0.0.1:9211,http://127.0.0.1:9212,http://127.0.0.1:9213}"
# Neo4j (Bolt). The local server runs with auth disabled; clients still always send these credentials.
: "${KFM_NEO4J_URI:=bolt://127.0.0.1:7687}"
: "${KFM_NEO4J_USER:=neo4j}"
: "${KFM_NEO4J_PASSWORD:=kfm-local-dev}"

export KFM_PG_DSN KFM_PG_ADMIN_DSN KFM_ES_URL KFM_OS_URL KFM_SEARCH_CLUSTER_URLS KFM_NEO4J_URI KFM_NEO4J_USER KFM_NEO4J_PASSWORD

# A DSN without a user means "the OS user". node-postgres reads that from $USER, which is not always set
# (CI, cron, su); PGUSER fills the gap for psql and node-postgres alike.
if [ -z "${PGUSER:-}" ] && [ -z "${USER:-}" ]; then
  PGUSER="$(id -un)"
  export PGUSER
fi
