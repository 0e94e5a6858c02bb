#!/usr/bin/env bash
# Brings up PostgreSQL+PostGIS, Elasticsearch, OpenSearch and Neo4j on 127.0.0.1 and waits until each answers a
# real query; with --search-nodes N also a cluster of N search nodes (HTTP 9211…, transport 9311…).
# Idempotent: downloads and builds once into the cache dir (${KFM_STORES_HOME:-$HOME/.cache/kfm-stores}),
# starts only what is not running, and re-checks everything. Exit status is non-zero if any store fails.
#
# Usage: tools/stores/up.sh [postgis|elasticsearch|opensearch|opensearch3|neo4j|search-cluster ...] [--search-nodes N]
#                          [--cluster-engine opensearch|elasticsearch] [--opensearch 3]
#        (default: the four single servers; --opensearch 3 adds OpenSearch 3.x on 9202, on the Temurin 25 JDK)
# Env:   KFM_STORES_HOME, KFM_STORES_TIMEOUT (seconds per store, default 180), KFM_STORES_JAVA_HOME,
#        KFM_STORES_MAVEN_ARGS (extra mvn args, e.g. -Dmaven.repo.local=...),
#        KFM_STORES_ES_BASE / KFM_STORES_OS_BASE / KFM_STORES_CLUSTER_BASE (install/data/logs dirs),
#        KFM_STORES_ES_USER (the search engines' user as root; default kfmstores),
#        KFM_STORES_NEO4J_PAGECACHE_MB (Neo4j's page cache in MB, default 3072),
#        KFM_SEARCH_NODES (same as --search-nodes), KFM_SEARCH_CLUSTER_ENGINE (same as --cluster-engine)
set -euo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

TIMEOUT="${KFM_STORES_TIMEOUT:-180}"
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
T0="$(now_s)"
mkdir -p "$STATE_DIR" "$LOG_DIR"
# KFM_STORES_MAVEN_ARGS: extra Maven arguments, e.g. "-Dmaven.repo.local=/some/where -s settings.xml"
read -r -a MVN_EXTRA <<<"${KFM_STORES_MAVEN_ARGS:-}"
MVN=(mvn -q -B -ntp "${MVN_EXTRA[@]}")

WANTED=()
SEARCH_NODES="${KFM_SEARCH_NODES:-0}"
while [ "$#" -gt 0 ]; do
  case "$1" in
    --search-nodes) [ "$#" -ge 2 ] || die "--search-nodes needs a number"; SEARCH_NODES="$2"; shift 2 ;;
    --search-nodes=*) SEARCH_NODES="${1#*=}"; shift ;;
    --cluster-engine) [ "$#" -ge 2 ] || die "--cluster-engine needs elasticsearch or opensearch"; SEARCH_CLUSTER_ENGINE="$2"; shift 2 ;;
    --cluster-engine=*) SEARCH_CLUSTER_ENGINE="${1#*=}"; shift ;;
    --opensearch) [ "${2:-}" = 3 ] || die "--opensearch: only 3 is an optional version (2.19 always runs)"; WANTED+=(opensearch3); shift 2 ;;
    -*) die "unknown option '$1' (expected --search-nodes N or --cluster-engine ENGINE)" ;;
    *) WANTED+=("$1"); shift ;;
  esac
done
case "$SEARCH_NODES" in ''|*[!0-9]*) die "--search-nodes: expected a number of nodes, found '$SEARCH_NODES'" ;; esac
case "$SEARCH_CLUSTER_ENGINE" in elasticsearch|opensearch) ;; *) die "--cluster-engine: expected elasticsearch or opensearch, found '$SEARCH_CLUSTER_ENGINE'" ;; esac
# only --opensearch 3 given: the default four plus OpenSearch 3
if [ "${#WANTED[@]}" -eq 0 ] || [ "${WANTED[*]}" = opensearch3 ]; then WANTED+=(postgis elasticsearch opensearch neo4j); fi
wants() { local w; for w in "${WANTED[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }
for w in "${WANTED[@]}"; do
  case "$w" in
    postgis|elasticsearch|opensearch|opensearch3|neo4j) ;;
    search-cluster) [ "$SEARCH_NODES" -gt 0 ] || SEARCH_NODES=3 ;;   # "search-cluster" alone: only the cluster
    *) die "unknown store '$w' (expected postgis, elasticsearch, opensearch, opensearch3, neo4j, search-cluster)";;
  esac
done
[ "$SEARCH_NODES" = 0 ] || [ "$SEARCH_NODES" -ge 2 ] || die "--search-nodes: a cluster needs at least 2 nodes (found $SEARCH_NODES)"
[ "$SEARCH_NODES" -le 5 ] || die "--search-nodes: at most 5 nodes on one machine (found $SEARCH_NODES)"

command -v curl >/dev/null || die "curl is required (apt-get install -y curl)"

# =================================================================================================================
# PostgreSQL + PostGIS (the machine's Debian PostgreSQL cluster; we only add PostGIS, a role and two databases)
# =================================================================================================================
pg_admin_psql() { # runs psql as the postgres superuser against database $1, remaining args passed to psql
  local db="$1"; shift
  if psql -X -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -d "$db" -Atc 'select 1' >/dev/null 2>&1; then
    psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres -d "$db" "$@"
  elif [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d "$db" "$@"
  else
    die "postgresql: cannot connect as the postgres superuser (neither trust auth on $PG_HOST nor root); set up a role for $(id -un) yourself"
  fi
}

pg_up() {
  local t0 major cluster status
  t0="$(now_s)"
  if ! command -v pg_lsclusters >/dev/null 2>&1 || [ ! -d /etc/postgresql ]; then
    die "postgresql: PostgreSQL is not installed. Install it with: apt-get update && apt-get install -y postgresql postgresql-15-postgis-3"
  fi
  # match the installed/running major (highest one with a cluster)
  read -r major cluster PG_PORT status < <(pg_lsclusters -h | sort -V -k1,1 | tail -1 | awk '{print $1, $2, $3, $4}') || true
  [ -n "${major:-}" ] || die "postgresql: no cluster found (pg_lsclusters is empty); create one: pg_createcluster 15 main --start"
  local pg_log="/var/log/postgresql/postgresql-$major-$cluster.log"

  if ! dpkg-query -W -f='${Status}' "postgresql-$major-postgis-3" 2>/dev/null | grep -q "install ok installed"; then
    if [ "$(id -u)" = 0 ]; then
      log "postgis: installing postgresql-$major-postgis-3 (apt) …"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$major-postgis-3" >"$LOG_DIR/apt-postgis.log" 2>&1 \
        || die "postgis: apt-get install postgresql-$major-postgis-3 failed, see $LOG_DIR/apt-postgis.log"
    else
      die "postgis: package postgresql-$major-postgis-3 is missing; run as root: apt-get update && apt-get install -y postgresql-$major-postgis-3"
    fi
  fi

  if [ "$status" != "online" ]; then
    log "postgis: starting PostgreSQL $major/$cluster …"
    if [ "$(id -u)" = 0 ]; then
      pg_ctlcluster --skip-systemctl-redirect "$major" "$cluster" start || die "postgis: could not start cluster $major/$cluster, see $pg_log"
    else
      pg_ctlcluster "$major" "$cluster" start || die "postgis: could not start cluster $major/$cluster (try as root), see $pg_log"
    fi
    head -1 "/var/lib/postgresql/$major/$cluster/postmaster.pid" > "$PG_STARTED_MARKER" 2>/dev/null || true
  fi
  local deadline=$(( $(now_s) + TIMEOUT ))
  until pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; do
    [ "$(now_s)" -lt "$deadline" ] || die "postgis: PostgreSQL not accepting connections on $PG_HOST:$PG_PORT after ${TIMEOUT}s, see $pg_log"
    sleep 1
  done

  # a login role for the current OS user, so postgres://127.0.0.1:5432/<db> (no user, no password) works from
  # psql and node-postgres (both default the user name to the OS user). Warm path: one query per database.
  local me db v="" ok=1; me="$(id -un)"
  local q="select postgis_version() || '|' || current_setting('server_version')"
  for db in "${PG_DATABASES[@]}"; do
    v="$(psql -X -Atq "postgres://$PG_HOST:$PG_PORT/$db" -c "$q" 2>/dev/null)" || { ok=0; break; }
  done
  if [ "$ok" = 0 ]; then
    if [ "$me" != postgres ] && [ "$(pg_admin_psql postgres -Atc "select count(*) from pg_roles where rolname = '$me'")" = 0 ]; then
      log "postgis: creating superuser role \"$me\" (local dev)"
      pg_admin_psql postgres -c "CREATE ROLE \"$me\" LOGIN SUPERUSER"
    fi
    for db in "${PG_DATABASES[@]}"; do
      if [ "$(pg_admin_psql postgres -Atc "select count(*) from pg_database where datname = '$db'")" = 0 ]; then
        log "postgis: creating database $db (owner $me)"
        pg_admin_psql postgres -c "CREATE DATABASE \"$db\" OWNER \"$me\""
      fi
      pg_admin_psql "$db" -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
    done
    # the real check, as the current user over TCP with the same DSN shape the apps use
    for db in "${PG_DATABASES[@]}"; do
      v="$(psql -X -Atq "postgres://$PG_HOST:$PG_PORT/$db" -c "$q" 2>&1)" \
        || die "postgis: 'SELECT postgis_version()' failed in $db as $me: $v (log: $pg_log)"
    done
  fi
  local sv="${v##*|}" gv="${v%%|*}"
  log "postgis: ready in $(( $(now_s) - t0 ))s — PostgreSQL ${sv%% *}, PostGIS ${gv%% *} on $PG_HOST:$PG_PORT (dbs: ${PG_DATABASES[*]})"
}

# =================================================================================================================
# Search engines: Elasticsearch and OpenSearch, each assembled from Maven Central artifacts (see search_select)
# =================================================================================================================
se_assembly_stamp() {
  printf '%s\n' "$SE_DIST_GAV" "$SE_MODULE_GROUP" "${SE_MODULES[@]}" "layout-v4" | sha256sum | cut -c1-16
}

# Assembles the selected engine's install (once; shared by its single node and its cluster nodes).
se_assemble() {
  local stamp; stamp="$(se_assembly_stamp)"
  if [ -f "$SE_HOME/.kfm-assembled" ] && [ "$(cat "$SE_HOME/.kfm-assembled")" = "$stamp" ]; then
    return 0
  fi
  local t0; t0="$(now_s)"
  log "$SE_ENGINE: assembling $SE_VERSION from Maven Central into $SE_HOME …"
  command -v mvn >/dev/null || die "$SE_ENGINE: Maven is required to fetch artifacts (apt-get install -y maven)"
  command -v unzip >/dev/null || die "$SE_ENGINE: unzip is required (apt-get install -y unzip)"
  local work="$KFM_STORES_HOME/build/$SE_ENGINE-$SE_VERSION"
  rm -rf "$work"; mkdir -p "$work/dist" "$work/modules"
  local mlog="$LOG_DIR/$SE_ENGINE-assemble.log"; : > "$mlog"

  # 1. core distribution
  (cd "$work" && "${MVN[@]}" dependency:copy -Dartifact="$SE_DIST_GAV" -DoutputDirectory="$work/dist" -Dmdep.overWriteReleases=true) >>"$mlog" 2>&1 \
    || die "$SE_ENGINE: could not fetch $SE_DIST_GAV, see $mlog"

  # 2. modules with their runtime dependencies: one reactor build, one child pom per module
  local agg="$work/poms" spec name artifact cls ext excl
  mkdir -p "$agg"
  {
    echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
    echo '<groupId>kfm.stores</groupId><artifactId>search-modules</artifactId><version>1</version><packaging>pom</packaging><modules>'
    for spec in "${SE_MODULES[@]}"; do echo "<module>$(cut -d: -f1 <<<"$spec")</module>"; done
    echo '</modules></project>'
  } > "$agg/pom.xml"
  for spec in "${SE_MODULES[@]}"; do
    IFS=: read -r name artifact cls ext <<<"$spec"
    mkdir -p "$agg/$name"
    # the server and its dependencies are already in lib/ (OpenSearch's modules also need libraries of its group
    # that lib/ lacks, such as ssl-config and grok, so only the server jar's tree is excluded there; jars lib/
    # has are skipped below); modules that extend lang-painless must not carry its SPI again
    excl="<exclusion><groupId>${SE_SERVER_EXCLUDE%%:*}</groupId><artifactId>${SE_SERVER_EXCLUDE#*:}</artifactId></exclusion>"
    [ "$name" = lang-painless ] || excl="$excl<exclusion><groupId>$SE_MODULE_GROUP</groupId><artifactId>*</artifactId></exclusion>"
    cat > "$agg/$name/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>kfm.stores</groupId><artifactId>search-module-$name</artifactId><version>1</version><packaging>pom</packaging>
<dependencies><dependency><groupId>$SE_MODULE_GROUP</groupId><artifactId>$artifact</artifactId><version>$SE_VERSION</version>
<exclusions>$excl</exclusions></dependency></dependencies>
<build><plugins><plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.8.1</version>
<configuration><outputDirectory>$work/modules/$name</outputDirectory><includeScope>runtime</includeScope></configuration>
</plugin></plugins></build></project>
POM
  done
  "${MVN[@]}" -f "$agg/pom.xml" dependency:copy-dependencies >>"$mlog" 2>&1 \
    || die "$SE_ENGINE: could not fetch the modules ($SE_MODULE_GROUP:*:$SE_VERSION), see $mlog"

  # 3. unpack + add modules with descriptors
  unzip -q "$work/dist/$SE_DIST-$SE_VERSION.zip" -d "$work/unpacked"
  local home="$work/unpacked/$SE_DIST-$SE_VERSION" j base
  for spec in "${SE_MODULES[@]}"; do
    IFS=: read -r name artifact cls ext <<<"$spec"
    mkdir -p "$home/modules/$name"
    for j in "$work/modules/$name"/*.jar; do
      base="$(basename "$j" | sed -E 's/-[0-9][0-9.]*(-[A-Za-z0-9.]+)?\.jar$//')"
      # never duplicate a jar the server already has (jar hell)
      if compgen -G "$home/lib/$base-[0-9]*.jar" >/dev/null; then continue; fi
      cp "$j" "$home/modules/$name/"
    done
    cat > "$home/modules/$name/plugin-descriptor.properties" <<DESC
description=$name module (from $SE_MODULE_GROUP:$artifact:$SE_VERSION)
version=$SE_VERSION
name=$name
classname=$cls
java.version=$SE_JAVA_VERSION
$SE_VERSION_KEY=$SE_VERSION
extended.plugins=$ext
has.native.controller=false
DESC
    case "$name" in
      lang-painless) cat > "$home/modules/$name/plugin-security.policy" <<'POLICY'
grant {
  // needed to generate runtime classes
  permission java.lang.RuntimePermission "createClassLoader";
  // needed to find the classloader to load whitelisted classes from
  permission java.lang.RuntimePermission "getClassLoader";
};
POLICY
      ;;
      reindex) cat > "$home/modules/$name/plugin-security.policy" <<POLICY
grant {
  // reindex (from remote) opens socket connections using the rest client
  permission java.net.SocketPermission "*", "connect";
};
grant codeBase "\${codebase.$SE_DIST-rest-client}" {
  permission java.net.NetPermission "getProxySelector";
};
grant codeBase "\${codebase.httpasyncclient}" {
  permission java.net.NetPermission "getProxySelector";
};
POLICY
      ;;
    esac
  done
  printf '%s\n' "$stamp" > "$home/.kfm-assembled"
  mkdir -p "$SE_INSTALL_BASE"
  rm -rf "$SE_HOME"
  mv "$home" "$SE_HOME"
  rm -rf "$work/unpacked"
  log "$SE_ENGINE: assembled in $(( $(now_s) - t0 ))s"
}

# Writes the selected server's own config dir (from the install's pristine config) and owns its tree.
# $1: the node count of the cluster it belongs to (empty for a single-node server).
se_configure() {
  local nodes="${1:-}"
  mkdir -p "$SE_DATA" "$SE_LOGS" "$SE_DIR/tmp" "$(dirname "$SE_PIDFILE")" "$SE_CONF"
  # pristine files from the install (an older layout edited jvm.options in place and kept the original as .orig)
  local f
  for f in "$SE_HOME/config"/*; do
    case "$(basename "$f")" in *.orig|"$SE_CONFIG_FILE"|jvm.options|*.keystore) continue ;; esac
    cp -r "$f" "$SE_CONF/"
  done
  {
    echo "# written by tools/stores/up.sh — local development/test server, loopback only"
    echo "cluster.name: $SE_CLUSTER_NAME"
    echo "node.name: $SE_NODE_NAME"
    echo "path.data: $SE_DATA"
    echo "path.logs: $SE_LOGS"
    echo "network.host: $SEARCH_HOST"
    echo "http.port: $SE_HTTP_PORT"
    echo "transport.port: $SE_TRANSPORT_PORT"
    if [ -z "$nodes" ]; then
      echo "discovery.type: single-node"
    else
      local i seeds="" names=""
      for i in $(seq 1 "$nodes"); do
        seeds="$seeds${seeds:+, }\"$SEARCH_HOST:$(( 9310 + i ))\""; names="$names${names:+, }\"node-$i\""
      done
      echo "discovery.seed_hosts: [$seeds]"
      echo "$SE_MANAGERS_KEY: [$names]"
    fi
    echo "cluster.routing.allocation.disk.threshold_enabled: false"
    echo "action.destructive_requires_name: false"
  } > "$SE_CONF/$SE_CONFIG_FILE"
  local jo="$SE_HOME/config/jvm.options"
  [ -f "$jo.orig" ] && jo="$jo.orig"
  # A single node gets 1 GB: at 512 MB its parent circuit breaker tripped at ~1,460 one-shard indices, short
  # of the 2,000 the benchmark measures. Each node of a cluster keeps 512 MB.
  local heap=1g
  [ -n "$nodes" ] && heap=512m
  sed -e "s/^-Xms.*/-Xms$heap/" -e "s/^-Xmx.*/-Xmx$heap/" \
      -e "s#^-XX:HeapDumpPath=.*#-XX:HeapDumpPath=$SE_DATA#" \
      -e "s#^-XX:ErrorFile=.*#-XX:ErrorFile=$SE_LOGS/hs_err_pid%p.log#" \
      -e "s#file=logs/gc.log#file=$SE_LOGS/gc.log#" "$jo" > "$SE_CONF/jvm.options"
  if [ "$(id -u)" = 0 ]; then
    if ! id "$SEARCH_USER" >/dev/null 2>&1; then
      log "$SE_ENGINE: creating unprivileged system user $SEARCH_USER"
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SEARCH_USER"
    fi
    chown -R "$SEARCH_USER:" "$SE_INSTALL_BASE" "$SE_DIR"
    chmod 755 "$(dirname "$SE_INSTALL_BASE")" "$(dirname "$SE_DIR")" 2>/dev/null || true
  fi
}

se_answers() { es_curl -f -o /dev/null "$(se_url)/" 2>/dev/null; }

# Starts the selected server unless it runs. $1: the cluster's node count (empty for a single node).
se_start() {
  local pid
  if pid="$(alive_pid "$SE_PIDFILE")"; then
    log "$SE_LABEL: already running (pid $pid)"
    return 0
  fi
  if port_open "$SEARCH_HOST" "$SE_HTTP_PORT"; then
    if se_answers; then
      warn "$SE_LABEL: something not started by up.sh already answers on $(se_url); using it"
      return 0
    fi
    die "$SE_LABEL: port $SEARCH_HOST:$SE_HTTP_PORT is taken by another process"
  fi
  se_configure "${1:-}"
  local jh="$SE_JAVA_HOME"
  [ -n "$jh" ] || jh="$(java_home)"
  [ -x "$jh/bin/java" ] || die "$SE_LABEL: needs the JDK at $jh (set KFM_STORES_JAVA21_HOME to a Java 21+ JDK)"
  log "$SE_LABEL: starting $SE_VERSION as user $SEARCH_USER (Java: $jh) …"
  local cmd=(env "JAVA_HOME=$jh" "${SE_ENV_PREFIX}_JAVA_HOME=$jh" "${SE_ENV_PREFIX}_TMPDIR=$SE_DIR/tmp"
             "${SE_ENV_PREFIX}_PATH_CONF=$SE_CONF" "$SE_HOME/bin/$SE_BIN" -d -p "$SE_PIDFILE")
  rm -f "$SE_PIDFILE"
  if [ "$(id -u)" = 0 ]; then
    # setsid: the server must not share the caller's process group, or it dies with the shell
    # (or CI step, or editor task) that happened to start it.
    (cd "$SE_HOME" && setsid runuser -u "$SEARCH_USER" -- "${cmd[@]}") > "$SE_LOGS/stdout.log" 2>&1 \
      || die "$SE_LABEL: failed to launch, see $SE_LOGS/stdout.log and $SE_LOG_FILE"
  else
    (cd "$SE_HOME" && setsid "${cmd[@]}") > "$SE_LOGS/stdout.log" 2>&1 \
      || die "$SE_LABEL: failed to launch, see $SE_LOGS/stdout.log and $SE_LOG_FILE"
  fi
}

# Waits until the selected server is healthy and proves it: modules loaded, a document written, read, deleted.
# $1: start time, $2: the health to wait for (yellow for a single node, green for a cluster), $3: node count.
se_wait() {
  local t0="$1" health="${2:-yellow}" nodes="${3:-}" deadline=$(( $(now_s) + TIMEOUT ))
  local q="wait_for_status=$health&timeout=2s"
  [ -z "$nodes" ] || q="$q&wait_for_nodes=$nodes"
  until es_curl -f -o /dev/null "$(se_url)/_cluster/health?$q" 2>/dev/null; do
    # the JVM creates its pid file before it writes the pid: an empty file is a server still starting
    if [ -s "$SE_PIDFILE" ] && ! alive_pid "$SE_PIDFILE" >/dev/null; then
      die "$SE_LABEL: process exited during startup, see $SE_LOG_FILE (and $SE_LOGS/stdout.log)"
    fi
    [ "$(now_s)" -lt "$deadline" ] || die "$SE_LABEL: not $health${nodes:+ with $nodes nodes} on $(se_url) after ${TIMEOUT}s, see $SE_LOG_FILE"
    sleep 1
  done
  local mods missing="" spec name
  mods="$(es_curl "$(se_url)/_nodes/_local/plugins?filter_path=nodes.*.modules.name")"
  for spec in "${SE_MODULES[@]}"; do
    name="${spec%%:*}"
    grep -q "\"$name\"" <<<"$mods" || missing="$missing $name"
  done
  [ -z "$missing" ] || die "$SE_LABEL: modules not loaded:$missing — see $SE_LOG_FILE"
  # a real write: on a cluster the probe index has a replica and the write waits for both copies
  local idx="kfm-stores-upcheck-$$-$RANDOM" out replicas=0 active=1
  [ -z "$nodes" ] || { replicas=1; active=all; }
  out="$(es_curl -f -XPUT "$(se_url)/$idx?wait_for_active_shards=$active" -H 'Content-Type: application/json' \
    -d "{\"settings\":{\"number_of_shards\":1,\"number_of_replicas\":$replicas}}" 2>&1)" \
    || die "$SE_LABEL: creating an index failed: $out (log: $SE_LOG_FILE)"
  out="$(es_curl -f -XPUT "$(se_url)/$idx/_doc/1?refresh=true&wait_for_active_shards=$active" -H 'Content-Type: application/json' -d '{"probe":"kfm"}' 2>&1)" \
    || die "$SE_LABEL: indexing a document failed: $out (log: $SE_LOG_FILE)"
  out="$(es_curl -f "$(se_url)/$idx/_doc/1" 2>&1)" || die "$SE_LABEL: get failed: $out (log: $SE_LOG_FILE)"
  grep -q '"probe":"kfm"' <<<"$out" || die "$SE_LABEL: get returned unexpected body: $out (log: $SE_LOG_FILE)"
  out="$(es_curl -f -XDELETE "$(se_url)/$idx" 2>&1)" || die "$SE_LABEL: delete index failed: $out (log: $SE_LOG_FILE)"
  local ver; ver="$(es_curl "$(se_url)/" | sed -n 's/.*"number" *: *"\([^"]*\)".*/\1/p')"
  log "$SE_LABEL: ready in $(( $(now_s) - t0 ))s — $SE_ENGINE $ver on $(se_url)${nodes:+, cluster of $nodes nodes, green} (data: $SE_DATA, log: $SE_LOG_FILE)"
}

# =================================================================================================================
# Neo4j (embedded Community edition behind a small launcher, built with Maven from tools/stores/neo4j)
# =================================================================================================================
neo4j_build() {
  local src="$STORES_DIR/neo4j" stamp
  stamp="$( (cat "$src/pom.xml"; find "$src/src" -type f -print0 | sort -z | xargs -0 cat) | sha256sum | cut -c1-16)"
  if [ -f "$NEO4J_BUILD/kfm-neo4j-launcher.jar" ] && [ -f "$NEO4J_BUILD/.stamp" ] && [ "$(cat "$NEO4J_BUILD/.stamp")" = "$stamp" ]; then
    return 0
  fi
  local t0; t0="$(now_s)"
  log "neo4j: building launcher (Neo4j $NEO4J_VERSION from Maven Central) …"
  command -v mvn >/dev/null || die "neo4j: Maven is required (apt-get install -y maven)"
  local blog="$LOG_DIR/neo4j-build.log"
  rm -rf "$NEO4J_BUILD" "$NEO4J_LIB"; mkdir -p "$NEO4J_BUILD" "$NEO4J_LIB"
  JAVA_HOME="$(java_home)" "${MVN[@]}" -f "$src/pom.xml" -DkfmBuildDir="$NEO4J_BUILD/target" \
      package dependency:copy-dependencies -DoutputDirectory="$NEO4J_LIB" -DincludeScope=runtime > "$blog" 2>&1 \
    || die "neo4j: launcher build failed, see $blog"
  cp "$NEO4J_BUILD/target/kfm-neo4j-launcher-1.0.0.jar" "$NEO4J_BUILD/kfm-neo4j-launcher.jar"
  rm -rf "$NEO4J_BUILD/target"
  printf '%s\n' "$stamp" > "$NEO4J_BUILD/.stamp"
  log "neo4j: built in $(( $(now_s) - t0 ))s"
}

neo4j_start() {
  local pid
  if pid="$(alive_pid "$NEO4J_PIDFILE")"; then
    log "neo4j: already running (pid $pid)"
    return 0
  fi
  if port_open "$NEO4J_HOST" "$NEO4J_PORT"; then
    if neo4j_check >/dev/null; then
      warn "neo4j: something not started by up.sh already answers on bolt://$NEO4J_HOST:$NEO4J_PORT; using it"
      return 0
    fi
    die "neo4j: port $NEO4J_HOST:$NEO4J_PORT is taken by another process"
  fi
  mkdir -p "$NEO4J_HOME"
  log "neo4j: starting $NEO4J_VERSION …"
  setsid nohup "$(java_home)/bin/java" -Xms256m -Xmx1g "${NEO4J_JVM_FLAGS[@]}" \
    -cp "$(neo4j_classpath)" org.kfm.stores.neo4j.Launcher \
    --home "$NEO4J_HOME" --host "$NEO4J_HOST" --port "$NEO4J_PORT" --pagecache-mb "$NEO4J_PAGECACHE_MB" \
    > "$NEO4J_LOG_FILE" 2>&1 < /dev/null &
  echo $! > "$NEO4J_PIDFILE"
  NEO4J_STARTED_AT="$(now_s)"
}

neo4j_wait() {
  local t0="${NEO4J_STARTED_AT:-$(now_s)}" deadline=$(( $(now_s) + TIMEOUT )) out
  until port_open "$NEO4J_HOST" "$NEO4J_PORT"; do
    if [ -f "$NEO4J_PIDFILE" ] && ! alive_pid "$NEO4J_PIDFILE" >/dev/null; then
      die "neo4j: process exited during startup, see $NEO4J_LOG_FILE"
    fi
    [ "$(now_s)" -lt "$deadline" ] || die "neo4j: Bolt not listening on $NEO4J_HOST:$NEO4J_PORT after ${TIMEOUT}s, see $NEO4J_LOG_FILE"
    sleep 1
  done
  until out="$(neo4j_check)"; do
    if grep -qE 'NoClassDefFoundError|ClassNotFoundException|UnsupportedClassVersionError' <<<"$out"; then
      die "neo4j: the readiness probe itself is broken: $out"
    fi
    [ "$(now_s)" -lt "$deadline" ] || die "neo4j: Cypher read over Bolt failed after ${TIMEOUT}s: $out — see $NEO4J_LOG_FILE"
    sleep 1
  done
  log "neo4j: ready in $(( $(now_s) - t0 ))s — $out on bolt://$NEO4J_HOST:$NEO4J_PORT (data: $NEO4J_HOME, log: $NEO4J_LOG_FILE)"
}

# =================================================================================================================
# Launch the JVMs first, then wait for each (servers boot while the others are being built and checked)
# =================================================================================================================
SINGLE_ENGINES=()
for e in elasticsearch opensearch opensearch3; do if wants "$e"; then SINGLE_ENGINES+=("$e"); fi; done
declare -A STARTED_AT=()
for e in "${SINGLE_ENGINES[@]}"; do search_select "$e"; se_assemble; STARTED_AT[$e]="$(now_s)"; se_start; done
if [ "$SEARCH_NODES" -gt 0 ]; then
  search_select "$SEARCH_CLUSTER_ENGINE" 1; se_assemble
  printf '%s %s\n' "$SEARCH_NODES" "$SEARCH_CLUSTER_ENGINE" > "$SEARCH_CLUSTER_NODES_FILE"
  STARTED_AT[cluster]="$(now_s)"
  for i in $(seq 1 "$SEARCH_NODES"); do search_select "$SEARCH_CLUSTER_ENGINE" "$i"; se_start "$SEARCH_NODES"; done
fi
if wants neo4j; then neo4j_build; neo4j_start; fi
if wants postgis; then pg_up; fi
for e in "${SINGLE_ENGINES[@]}"; do search_select "$e"; se_wait "${STARTED_AT[$e]}" yellow; done
if [ "$SEARCH_NODES" -gt 0 ]; then
  search_select "$SEARCH_CLUSTER_ENGINE" 1; se_wait "${STARTED_AT[cluster]}" green "$SEARCH_NODES"
fi
if wants neo4j; then neo4j_wait; fi
cluster_note=""
[ "$SEARCH_NODES" = 0 ] || cluster_note=", a $SEARCH_CLUSTER_ENGINE cluster of $SEARCH_NODES nodes"
log "all requested stores ready (${WANTED[*]}$cluster_note) in $(( $(now_s) - T0 ))s"
