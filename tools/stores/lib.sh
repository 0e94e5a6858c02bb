# shellcheck shell=bash
# Shared settings and helpers for tools/stores/{up,down,status}.sh. Sourced, never run directly.

STORES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Connection defaults (only set when unset) come from env.sh.
# shellcheck source=env.sh
. "$STORES_DIR/env.sh"

# ---- versions (change here, nowhere else) -----------------------------------------------------------------------
ES_VERSION="7.10.2"
# Elasticsearch core server: the minimal "integ-test-zip" distribution, published by Elastic on Maven Central.
ES_DIST_GAV="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"
# Modules the integ-test-zip lacks, as published on Maven Central by CodeLibs (versions track Elasticsearch;
# CodeLibs stopped at 7.10.2, the last Apache-2.0 release, and nobody publishes the 7.11+/8.x modules there).
ES_MODULE_GROUP="org.codelibs.elasticsearch.module"
# name:classname:extended-plugins
ES_MODULES=(
  "lang-painless:org.elasticsearch.painless.PainlessPlugin:"
  "analysis-common:org.elasticsearch.analysis.common.CommonAnalysisPlugin:lang-painless"
  "mapper-extras:org.elasticsearch.index.mapper.MapperExtrasPlugin:"
  "ingest-common:org.elasticsearch.ingest.common.IngestCommonPlugin:lang-painless"
  "reindex:org.elasticsearch.index.reindex.ReindexPlugin:"
  "parent-join:org.elasticsearch.join.ParentJoinPlugin:"
  "percolator:org.elasticsearch.percolator.PercolatorPlugin:"
  "rank-eval:org.elasticsearch.index.rankeval.RankEvalPlugin:"
)
NEO4J_VERSION="5.26.30"   # keep in sync with tools/stores/neo4j/pom.xml

# ---- locations --------------------------------------------------------------------------------------------------
KFM_STORES_HOME="${KFM_STORES_HOME:-$HOME/.cache/kfm-stores}"
STATE_DIR="$KFM_STORES_HOME/state"      # pid files and stamps
LOG_DIR="$KFM_STORES_HOME/logs"

# Elasticsearch refuses to run as root. As root we run it as the unprivileged system user "kfmstores", and its
# whole tree (home incl. config/, data, logs) must be writable by that user and reachable, so it cannot live under
# /root: it goes to /opt/kfm-stores/elasticsearch (override with KFM_STORES_ES_BASE). As a normal user, it lives in
# the cache dir and runs as that user.
if [ "$(id -u)" = 0 ]; then
  ES_USER="${KFM_STORES_ES_USER:-kfmstores}"
  ES_BASE="${KFM_STORES_ES_BASE:-/opt/kfm-stores/elasticsearch}"
else
  ES_USER="$(id -un)"
  ES_BASE="${KFM_STORES_ES_BASE:-$KFM_STORES_HOME/elasticsearch}"
fi
ES_HOME="$ES_BASE/elasticsearch-$ES_VERSION"
ES_DATA="$ES_BASE/data"
ES_LOGS="$ES_BASE/logs"
ES_PIDFILE="$ES_BASE/run/elasticsearch.pid"
ES_HTTP_HOST="127.0.0.1"
ES_HTTP_PORT="9200"
ES_TRANSPORT_PORT="9300"
ES_LOG_FILE="$ES_LOGS/kfm-stores.log"   # cluster.name is kfm-stores

NEO4J_BASE="$KFM_STORES_HOME/neo4j"
NEO4J_HOME="$NEO4J_BASE/home"
NEO4J_BUILD="$NEO4J_BASE/build"
NEO4J_LIB="$NEO4J_BASE/lib"            # runtime classpath (server, and the Java driver the probe uses)
NEO4J_PIDFILE="$STATE_DIR/neo4j.pid"
NEO4J_LOG_FILE="$LOG_DIR/neo4j.log"
NEO4J_HOST="127.0.0.1"
NEO4J_PORT="7687"

PG_HOST="127.0.0.1"
PG_STARTED_MARKER="$STATE_DIR/postgresql.started-by-up"
PG_DATABASES=(kfm_demo kfm_test)

# ---- helpers ----------------------------------------------------------------------------------------------------
log() { printf '[stores] %s\n' "$*"; }
warn() { printf '[stores] WARNING: %s\n' "$*" >&2; }
die() { printf '[stores] ERROR: %s\n' "$*" >&2; exit 1; }

now_s() { date +%s; }

# Java used for Elasticsearch 7.10 and the Neo4j launcher: Java 17 (override with KFM_STORES_JAVA_HOME).
java_home() {
  if [ -n "${KFM_STORES_JAVA_HOME:-}" ]; then echo "$KFM_STORES_JAVA_HOME"; return; fi
  local j
  for j in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-21-openjdk-amd64; do
    [ -x "$j/bin/java" ] && { echo "$j"; return; }
  done
  j="$(command -v java || true)"
  [ -n "$j" ] || die "no Java found: install Java 17 (apt-get install -y openjdk-17-jdk-headless) or set KFM_STORES_JAVA_HOME"
  dirname "$(dirname "$(readlink -f "$j")")"
}

# pid file -> pid if that process is alive, else nothing
alive_pid() {
  local f="$1" pid
  [ -f "$f" ] || return 1
  pid="$(tr -dc '0-9' < "$f")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && { echo "$pid"; return 0; }
  return 1
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

es_curl() { curl -sS --max-time 10 "$@"; }
es_url() { echo "http://$ES_HTTP_HOST:$ES_HTTP_PORT"; }

neo4j_classpath() { echo "$NEO4J_BUILD/kfm-neo4j-launcher.jar:$NEO4J_LIB/*"; }

# Cypher read over Bolt with the Java driver; prints "Neo4j Kernel <version> community" on success
neo4j_check() {
  [ -f "$NEO4J_BUILD/kfm-neo4j-launcher.jar" ] || { echo "launcher not built (run up.sh)"; return 1; }
  KFM_NEO4J_URI="bolt://$NEO4J_HOST:$NEO4J_PORT" timeout 30 "$(java_home)/bin/java" -Xmx64m -XX:TieredStopAtLevel=1 \
    -cp "$(neo4j_classpath)" org.kfm.stores.neo4j.BoltCheck 2>&1
}

# The JVM flags Neo4j's own neo4j.conf ships (server.jvm.additional), needed on Java 17+.
NEO4J_JVM_FLAGS=(
  -XX:+UseG1GC
  -XX:-OmitStackTraceInFastThrow
  -XX:+AlwaysPreTouch
  -XX:+UnlockExperimentalVMOptions
  -XX:+TrustFinalNonStaticFields
  -XX:+DisableExplicitGC
  -Djdk.nio.maxCachedBufferSize=1024
  -Dio.netty.tryReflectionSetAccessible=true
  -Djdk.tls.ephemeralDHKeySize=2048
  -Djdk.tls.rejectClientInitiatedRenegotiation=true
  -XX:FlightRecorderOptions=stackdepth=256
  -XX:+UnlockDiagnosticVMOptions
  -XX:+DebugNonSafepoints
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --enable-native-access=ALL-UNNAMED
  -Dlog4j2.disable.jmx=true
)
