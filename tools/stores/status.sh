#!/usr/bin/env bash
# Prints each local store: name, version, address, up/down (and whether up.sh started it).
# Exit status: 0 if all three are up, 1 otherwise.
set -uo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

rc=0
row() { printf '%-14s %-10s %-28s %-5s %s\n' "$@"; }
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

# --- Elasticsearch
body="$(curl -sS --max-time 5 "$(es_url)/" 2>/dev/null)"
ver="$(sed -n 's/.*"number" *: *"\([^"]*\)".*/\1/p' <<<"$body")"
if [ -n "$ver" ]; then
  health="$(curl -sS --max-time 5 "$(es_url)/_cluster/health" 2>/dev/null | sed -n 's/.*"status" *: *"\([^"]*\)".*/\1/p')"
  if pid="$(alive_pid "$ES_PIDFILE")"; then note="pid $pid"; else note="not started by up.sh"; fi
  row elasticsearch "$ver" "$ES_HTTP_HOST:$ES_HTTP_PORT" up "$note, health ${health:-?}, log $ES_LOG_FILE"
else
  row elasticsearch "$ES_VERSION" "$ES_HTTP_HOST:$ES_HTTP_PORT" down "log $ES_LOG_FILE"
  rc=1
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
