#!/usr/bin/env bash
# Stops what tools/stores/up.sh started, using its pid files only (never by process name).
# PostgreSQL is stopped only if up.sh had to start it (and it is still that same postmaster).
#
# Usage: tools/stores/down.sh [postgis|elasticsearch|opensearch|opensearch3|neo4j|search-cluster ...]   (default: all)
set -euo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

WANTED=("$@")
[ "${#WANTED[@]}" -gt 0 ] || WANTED=(postgis elasticsearch opensearch opensearch3 neo4j search-cluster)
wants() { local w; for w in "${WANTED[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }

stop_pidfile() { # name pidfile
  local name="$1" f="$2" pid i
  if ! pid="$(alive_pid "$f")"; then
    log "$name: not running (no live pid in $f)"
    rm -f "$f"
    return 0
  fi
  log "$name: stopping pid $pid …"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "$name: pid $pid still alive after 60s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
  log "$name: stopped"
}

if wants neo4j; then stop_pidfile neo4j "$NEO4J_PIDFILE"; fi
for e in elasticsearch opensearch opensearch3; do
  if wants "$e"; then search_select "$e"; stop_pidfile "$e" "$SE_PIDFILE"; fi
done
if wants search-cluster && [ -f "$SEARCH_CLUSTER_NODES_FILE" ]; then
  read -r cluster_nodes cluster_engine < "$SEARCH_CLUSTER_NODES_FILE"
  for i in $(seq 1 "$cluster_nodes"); do
    search_select "$cluster_engine" "$i"; stop_pidfile "search-cluster node-$i" "$SE_PIDFILE"
  done
  rm -f "$SEARCH_CLUSTER_NODES_FILE"
fi

if wants postgis; then
  if [ -f "$PG_STARTED_MARKER" ]; then
    started_pid="$(tr -dc '0-9' < "$PG_STARTED_MARKER")"
    read -r major cluster _ < <(pg_lsclusters -h | sort -V -k1,1 | tail -1 | awk '{print $1, $2, $3}')
    current_pid="$(head -1 "/var/lib/postgresql/$major/$cluster/postmaster.pid" 2>/dev/null || true)"
    if [ -n "$started_pid" ] && [ "$started_pid" = "$current_pid" ]; then
      log "postgis: stopping PostgreSQL $major/$cluster (started by up.sh, pid $started_pid) …"
      if [ "$(id -u)" = 0 ]; then
        pg_ctlcluster --skip-systemctl-redirect "$major" "$cluster" stop
      else
        pg_ctlcluster "$major" "$cluster" stop
      fi
      log "postgis: stopped"
    else
      log "postgis: the running PostgreSQL was not started by up.sh; leaving it alone"
    fi
    rm -f "$PG_STARTED_MARKER"
  else
    log "postgis: PostgreSQL was not started by up.sh; leaving it running"
  fi
fi
