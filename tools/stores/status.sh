#!/usr/bin/env bash
# Prints each local store: name, version, address, up/down (and whether up.sh started it).
# Exit status: 0 if the four single servers are up, 1 otherwise (a cluster node that is down is shown, not counted).
set -uo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

rc=0
row() { printf '%-15s %-10s %-20s %-5s %s\n' "$@"; }
row STORE VERSION ADDRESS STATE NOTE

# --- PostgreSQL + PostGIS
pg_port="$(pg_lsclusters -h 2>/dev/null | sort -V -k1,1 | tail -1 | awk '{print $3}')"
pg_port="${pg_port:-5432}"
v="$(PGCONNECT_TIMEOUT=3 psql -X -Atq "postgres://$PG_HOST:$pg_port/${PG_DATABASES[0]}" \
      -c "select current_setting('server_version') || '|' || postgis_version()" 2>/dev/null)"
if [ -n "$v" ]; then
  sv="${v%%|*}"; gv="${v##*|}"
  note="PostGIS ${gv%% *}"
  [ -f "$PG_STARTED_MARKER" ] && note="$note, started by up.sh" || note="$note, system cluster"
  row postgis "${sv%% *}" "$PG_HOST:$pg_port" up "$note"
else
  row postgis "-" "$PG_HOST:$pg_port" down "no answer to postgis_version() in ${PG_DATABASES[0]}"
  rc=1
fi

# --- search engines: the single-node servers, then the cluster's nodes (if up.sh started one)
search_row() { # name (elasticsearch | opensearch | node-N), required (1 = its absence fails the status)
  local body ver health nodes pid note
  body="$(curl -sS --max-time 5 "$(se_url)/" 2>/dev/null)"
  ver="$(sed -n 's/.*"number" *: *"\([^"]*\)".*/\1/p' <<<"$body")"
  if [ -n "$ver" ]; then
    read -r health nodes < <(curl -sS --max-time 5 "$(se_url)/_cluster/health" 2>/dev/null \
      | sed -n 's/.*"status" *: *"\([^"]*\)".*"number_of_nodes" *: *\([0-9]*\).*/\1 \2/p')
    if pid="$(alive_pid "$SE_PIDFILE")"; then note="pid $pid"; else note="not started by up.sh"; fi
    row "$1" "$ver" "$SEARCH_HOST:$SE_HTTP_PORT" up "$note, $SE_ENGINE, health ${health:-?}, ${nodes:-?} node(s), log $SE_LOG_FILE"
  else
    row "$1" "$SE_VERSION" "$SEARCH_HOST:$SE_HTTP_PORT" down "$SE_ENGINE, log $SE_LOG_FILE"
    [ "$2" = 0 ] || rc=1
  fi
}
search_select elasticsearch; search_row elasticsearch 1
search_select opensearch; search_row opensearch 1
# OpenSearch 3 is optional: shown when up.sh assembled it, never counted
search_select opensearch3; [ ! -d "$SE_HOME" ] || search_row opensearch3 0
if [ -f "$SEARCH_CLUSTER_NODES_FILE" ]; then
  read -r cluster_nodes cluster_engine < "$SEARCH_CLUSTER_NODES_FILE"
  for i in $(seq 1 "$cluster_nodes"); do search_select "$cluster_engine" "$i"; search_row "cluster node-$i" 0; done
fi

# --- Neo4j
if port_open "$NEO4J_HOST" "$NEO4J_PORT" && out="$(neo4j_check)"; then
  # "Neo4j Kernel 5.26.30 community"
  nv="$(awk '{print $3}' <<<"$out")"
  if pid="$(alive_pid "$NEO4J_PIDFILE")"; then note="pid $pid"; else note="not started by up.sh"; fi
  row neo4j "$nv" "$NEO4J_HOST:$NEO4J_PORT" up "$note, $(awk '{print $4}' <<<"$out") edition, log $NEO4J_LOG_FILE"
else
  row neo4j "$NEO4J_VERSION" "$NEO4J_HOST:$NEO4J_PORT" down "log $NEO4J_LOG_FILE"
  rc=1
fi
exit "$rc"
