#!/usr/bin/env bash
# Brings up PostgreSQL+PostGIS, Elasticsearch and Neo4j on 127.0.0.1 and waits until each answers a real query.
# Idempotent: downloads and builds once into the cache dir (${KFM_STORES_HOME:-$HOME/.cache/kfm-stores}),
# starts only what is not running, and re-checks everything. Exit status is non-zero if any store fails.
#
# Usage: tools/stores/up.sh [postgis|elasticsearch|neo4j ...]   (default: all three)
# Env:   KFM_STORES_HOME, KFM_STORES_TIMEOUT (seconds per store, default 180), KFM_STORES_JAVA_HOME,
#        KFM_STORES_MAVEN_ARGS (extra mvn args, e.g. -Dmaven.repo.local=...),
#        KFM_STORES_ES_BASE (ES install/data/logs dir), KFM_STORES_ES_USER (as root; default kfmstores)
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

WANTED=("$@")
[ "${#WANTED[@]}" -gt 0 ] || WANTED=(postgis elasticsearch neo4j)
wants() { local w; for w in "${WANTED[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }
for w in "${WANTED[@]}"; do
  case "$w" in postgis|elasticsearch|neo4j) ;; *) die "unknown store '$w' (expected postgis, elasticsearch, neo4j)";; esac
done

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
# Elasticsearch (assembled from Maven Central artifacts)
# =================================================================================================================
es_assembly_stamp() {
  printf '%s\n' "$ES_DIST_GAV" "$ES_MODULE_GROUP" "${ES_MODULES[@]}" "layout-v2" | sha256sum | cut -c1-16
}

es_assemble() {
  local stamp; stamp="$(es_assembly_stamp)"
  if [ -f "$ES_HOME/.kfm-assembled" ] && [ "$(cat "$ES_HOME/.kfm-assembled")" = "$stamp" ]; then
    return 0
  fi
  local t0; t0="$(now_s)"
  log "elasticsearch: assembling $ES_VERSION from Maven Central into $ES_HOME …"
  command -v mvn >/dev/null || die "elasticsearch: Maven is required to fetch artifacts (apt-get install -y maven)"
  command -v unzip >/dev/null || die "elasticsearch: unzip is required (apt-get install -y unzip)"
  local work="$KFM_STORES_HOME/build/es-$ES_VERSION"
  rm -rf "$work"; mkdir -p "$work/dist" "$work/modules"
  local mlog="$LOG_DIR/es-assemble.log"; : > "$mlog"

  # 1. core distribution
  (cd "$work" && "${MVN[@]}" dependency:copy -Dartifact="$ES_DIST_GAV" -DoutputDirectory="$work/dist" -Dmdep.overWriteReleases=true) >>"$mlog" 2>&1 \
    || die "elasticsearch: could not fetch $ES_DIST_GAV, see $mlog"

  # 2. modules with their runtime dependencies: one reactor build, one child pom per module
  local agg="$work/poms" spec name cls ext excl
  mkdir -p "$agg"
  {
    echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
    echo '<groupId>kfm.stores</groupId><artifactId>es-modules</artifactId><version>1</version><packaging>pom</packaging><modules>'
    for spec in "${ES_MODULES[@]}"; do echo "<module>$(cut -d: -f1 <<<"$spec")</module>"; done
    echo '</modules></project>'
  } > "$agg/pom.xml"
  for spec in "${ES_MODULES[@]}"; do
    IFS=: read -r name cls ext <<<"$spec"
    mkdir -p "$agg/$name"
    # server jars are already in lib/; modules that extend lang-painless must not carry its SPI again
    excl='<exclusion><groupId>org.elasticsearch</groupId><artifactId>*</artifactId></exclusion>'
    [ "$name" = lang-painless ] || excl="$excl<exclusion><groupId>$ES_MODULE_GROUP</groupId><artifactId>*</artifactId></exclusion>"
    cat > "$agg/$name/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>kfm.stores</groupId><artifactId>es-module-$name</artifactId><version>1</version><packaging>pom</packaging>
<dependencies><dependency><groupId>$ES_MODULE_GROUP</groupId><artifactId>$name</artifactId><version>$ES_VERSION</version>
<exclusions>$excl</exclusions></dependency></dependencies>
<build><plugins><plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.8.1</version>
<configuration><outputDirectory>$work/modules/$name</outputDirectory><includeScope>runtime</includeScope></configuration>
</plugin></plugins></build></project>
EOF
  done
  "${MVN[@]}" -f "$agg/pom.xml" dependency:copy-dependencies >>"$mlog" 2>&1 \
    || die "elasticsearch: could not fetch the modules ($ES_MODULE_GROUP:*:$ES_VERSION), see $mlog"

  # 3. unpack + add modules with descriptors
  unzip -q "$work/dist/elasticsearch-$ES_VERSION.zip" -d "$work/unpacked"
  local home="$work/unpacked/elasticsearch-$ES_VERSION" j base
  for spec in "${ES_MODULES[@]}"; do
    IFS=: read -r name cls ext <<<"$spec"
    mkdir -p "$home/modules/$name"
    for j in "$work/modules/$name"/*.jar; do
      base="$(basename "$j" | sed -E 's/-[0-9][0-9.]*(-[A-Za-z0-9.]+)?\.jar$//')"
      # never duplicate a jar the server already has (jar hell)
      if compgen -G "$home/lib/$base-[0-9]*.jar" >/dev/null; then continue; fi
      cp "$j" "$home/modules/$name/"
    done
    cat > "$home/modules/$name/plugin-descriptor.properties" <<EOF
description=$name module (from $ES_MODULE_GROUP:$name:$ES_VERSION)
version=$ES_VERSION
name=$name
classname=$cls
java.version=1.8
elasticsearch.version=$ES_VERSION
extended.plugins=$ext
has.native.controller=false
EOF
    case "$name" in
      lang-painless) cat > "$home/modules/$name/plugin-security.policy" <<'EOF'
grant {
  // needed to generate runtime classes
  permission java.lang.RuntimePermission "createClassLoader";
  // needed to find the classloader to load whitelisted classes from
  permission java.lang.RuntimePermission "getClassLoader";
};
EOF
      ;;
      reindex) cat > "$home/modules/$name/plugin-security.policy" <<'EOF'
grant {
  // reindex (from remote) opens socket connections using the rest client
  permission java.net.SocketPermission "*", "connect";
};
grant codeBase "${codebase.elasticsearch-rest-client}" {
  permission java.net.NetPermission "getProxySelector";
};
grant codeBase "${codebase.httpasyncclient}" {
  permission java.net.NetPermission "getProxySelector";
};
EOF
      ;;
    esac
  done
  printf '%s\n' "$stamp" > "$home/.kfm-assembled"
  mkdir -p "$ES_BASE"
  rm -rf "$ES_HOME"
  mv "$home" "$ES_HOME"
  rm -rf "$work/unpacked"
  log "elasticsearch: assembled in $(( $(now_s) - t0 ))s"
}

es_configure() {
  mkdir -p "$ES_DATA" "$ES_LOGS" "$ES_BASE/tmp" "$(dirname "$ES_PIDFILE")"
  cat > "$ES_HOME/config/elasticsearch.yml" <<EOF
# written by tools/stores/up.sh — local development/test node, loopback only
cluster.name: kfm-stores
node.name: kfm-stores-es
path.data: $ES_DATA
path.logs: $ES_LOGS
network.host: $ES_HTTP_HOST
http.port: $ES_HTTP_PORT
transport.port: $ES_TRANSPORT_PORT
discovery.type: single-node
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
EOF
  local jo="$ES_HOME/config/jvm.options"
  [ -f "$jo.orig" ] || cp "$jo" "$jo.orig"
  sed -e 's/^-Xms.*/-Xms512m/' -e 's/^-Xmx.*/-Xmx512m/' \
      -e "s#^-XX:HeapDumpPath=.*#-XX:HeapDumpPath=$ES_DATA#" \
      -e "s#^-XX:ErrorFile=.*#-XX:ErrorFile=$ES_LOGS/hs_err_pid%p.log#" \
      -e "s#file=logs/gc.log#file=$ES_LOGS/gc.log#" "$jo.orig" > "$jo"
  if [ "$(id -u)" = 0 ]; then
    if ! id "$ES_USER" >/dev/null 2>&1; then
      log "elasticsearch: creating unprivileged system user $ES_USER"
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$ES_USER"
    fi
    chown -R "$ES_USER:" "$ES_BASE"
    chmod 755 "$(dirname "$ES_BASE")" 2>/dev/null || true
  fi
}

es_answers() { es_curl -f -o /dev/null "$(es_url)/" 2>/dev/null; }

es_start() {
  local pid
  if pid="$(alive_pid "$ES_PIDFILE")"; then
    log "elasticsearch: already running (pid $pid)"
    return 0
  fi
  if port_open "$ES_HTTP_HOST" "$ES_HTTP_PORT"; then
    if es_answers; then
      warn "elasticsearch: something not started by up.sh already answers on $(es_url); using it"
      return 0
    fi
    die "elasticsearch: port $ES_HTTP_HOST:$ES_HTTP_PORT is taken by another process"
  fi
  es_configure
  local jh; jh="$(java_home)"
  log "elasticsearch: starting $ES_VERSION as user $ES_USER (Java: $jh) …"
  local cmd=(env "JAVA_HOME=$jh" "ES_JAVA_HOME=$jh" "ES_TMPDIR=$ES_BASE/tmp" "ES_PATH_CONF=$ES_HOME/config"
             "$ES_HOME/bin/elasticsearch" -d -p "$ES_PIDFILE")
  rm -f "$ES_PIDFILE"
  if [ "$(id -u)" = 0 ]; then
    # setsid: the server must not share the caller's process group, or it dies with the shell
    # (or CI step, or editor task) that happened to start it.
    (cd "$ES_HOME" && setsid runuser -u "$ES_USER" -- "${cmd[@]}") > "$ES_LOGS/stdout.log" 2>&1 \
      || die "elasticsearch: failed to launch, see $ES_LOGS/stdout.log and $ES_LOG_FILE"
  else
    (cd "$ES_HOME" && setsid "${cmd[@]}") > "$ES_LOGS/stdout.log" 2>&1 \
      || die "elasticsearch: failed to launch, see $ES_LOGS/stdout.log and $ES_LOG_FILE"
  fi
  ES_STARTED_AT="$(now_s)"
}

es_wait() {
  local t0="${ES_STARTED_AT:-$(now_s)}" deadline=$(( $(now_s) + TIMEOUT ))
  until es_curl -f -o /dev/null "$(es_url)/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null; do
    if [ -f "$ES_PIDFILE" ] && ! alive_pid "$ES_PIDFILE" >/dev/null; then
      die "elasticsearch: process exited during startup, see $ES_LOG_FILE (and $ES_LOGS/stdout.log)"
    fi
    [ "$(now_s)" -lt "$deadline" ] || die "elasticsearch: not healthy on $(es_url) after ${TIMEOUT}s, see $ES_LOG_FILE"
    sleep 1
  done
  # the real check: modules present, then create + get + delete a document in a throwaway index
  local mods missing="" spec name
  mods="$(es_curl "$(es_url)/_nodes/_local/plugins?filter_path=nodes.*.modules.name")"
  for spec in "${ES_MODULES[@]}"; do
    name="${spec%%:*}"
    grep -q "\"$name\"" <<<"$mods" || missing="$missing $name"
  done
  [ -z "$missing" ] || die "elasticsearch: modules not loaded:$missing — see $ES_LOG_FILE"
  local idx="kfm-stores-upcheck-$$-$RANDOM" out
  out="$(es_curl -f -XPUT "$(es_url)/$idx/_doc/1?refresh=true" -H 'Content-Type: application/json' -d '{"probe":"kfm"}' 2>&1)" \
    || die "elasticsearch: indexing a document failed: $out (log: $ES_LOG_FILE)"
  out="$(es_curl -f "$(es_url)/$idx/_doc/1" 2>&1)" || die "elasticsearch: get failed: $out (log: $ES_LOG_FILE)"
  grep -q '"probe":"kfm"' <<<"$out" || die "elasticsearch: get returned unexpected body: $out (log: $ES_LOG_FILE)"
  out="$(es_curl -f -XDELETE "$(es_url)/$idx" 2>&1)" || die "elasticsearch: delete index failed: $out (log: $ES_LOG_FILE)"
  local ver; ver="$(es_curl "$(es_url)/" | sed -n 's/.*"number" *: *"\([^"]*\)".*/\1/p')"
  log "elasticsearch: ready in $(( $(now_s) - t0 ))s — Elasticsearch $ver on $(es_url) (data: $ES_DATA, log: $ES_LOG_FILE)"
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
    --home "$NEO4J_HOME" --host "$NEO4J_HOST" --port "$NEO4J_PORT" --pagecache-mb 256 \
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
# Launch the JVMs first, then wait for each (ES, Neo4j and the PostgreSQL checks overlap)
# =================================================================================================================
# (Elasticsearch boots while the Neo4j launcher is being built)
if wants elasticsearch; then es_assemble; es_start; fi
if wants neo4j; then neo4j_build; neo4j_start; fi
if wants postgis; then pg_up; fi
if wants elasticsearch; then es_wait; fi
if wants neo4j; then neo4j_wait; fi
log "all requested stores ready (${WANTED[*]}) in $(( $(now_s) - T0 ))s"
