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
# name:artifact:classname:extended-plugins
ES_MODULES=(
  "lang-painless:lang-painless:org.elasticsearch.painless.PainlessPlugin:"
  "analysis-common:analysis-common:org.elasticsearch.analysis.common.CommonAnalysisPlugin:lang-painless"
  "mapper-extras:mapper-extras:org.elasticsearch.index.mapper.MapperExtrasPlugin:"
  "ingest-common:ingest-common:org.elasticsearch.ingest.common.IngestCommonPlugin:lang-painless"
  "reindex:reindex:org.elasticsearch.index.reindex.ReindexPlugin:"
  "parent-join:parent-join:org.elasticsearch.join.ParentJoinPlugin:"
  "percolator:percolator:org.elasticsearch.percolator.PercolatorPlugin:"
  "rank-eval:rank-eval:org.elasticsearch.index.rankeval.RankEvalPlugin:"
)
# OpenSearch (the maintained Apache-2.0 fork): its integ-test-zip and its own module jars are on Maven Central.
# 2.19.x is the newest line that runs on Java 17 (3.x needs Java 21+).
OS_VERSION="2.19.6"
OS_DIST_GAV="org.opensearch.distribution.integ-test-zip:opensearch:${OS_VERSION}:zip"
OS_MODULE_GROUP="org.opensearch.plugin"
OS_MODULES=(
  "lang-painless:lang-painless:org.opensearch.painless.PainlessPlugin:"
  "analysis-common:analysis-common:org.opensearch.analysis.common.CommonAnalysisPlugin:lang-painless"
  "mapper-extras:mapper-extras-client:org.opensearch.index.mapper.MapperExtrasPlugin:"
  "ingest-common:ingest-common:org.opensearch.ingest.common.IngestCommonPlugin:lang-painless"
  "reindex:reindex-client:org.opensearch.index.reindex.ReindexPlugin:"
  "parent-join:parent-join-client:org.opensearch.join.ParentJoinPlugin:"
  "percolator:percolator-client:org.opensearch.percolator.PercolatorPlugin:"
  "rank-eval:rank-eval-client:org.opensearch.index.rankeval.RankEvalPlugin:"
)
# OpenSearch 3.x (optional: up.sh opensearch3, or --opensearch 3): needs Java 21+, run on the Temurin 25 JDK;
# its modules were renamed *ModulePlugin.
OS3_VERSION="3.3.2"
OS3_DIST_GAV="org.opensearch.distribution.integ-test-zip:opensearch:${OS3_VERSION}:zip"
OS3_MODULES=(
  "lang-painless:lang-painless:org.opensearch.painless.PainlessModulePlugin:"
  "analysis-common:analysis-common:org.opensearch.analysis.common.CommonAnalysisModulePlugin:lang-painless"
  "mapper-extras:mapper-extras-client:org.opensearch.index.mapper.MapperExtrasModulePlugin:"
  "ingest-common:ingest-common:org.opensearch.ingest.common.IngestCommonModulePlugin:lang-painless"
  "reindex:reindex-client:org.opensearch.index.reindex.ReindexModulePlugin:"
  "parent-join:parent-join-client:org.opensearch.join.ParentJoinModulePlugin:"
  "percolator:percolator-client:org.opensearch.percolator.PercolatorModulePlugin:"
  "rank-eval:rank-eval-client:org.opensearch.index.rankeval.RankEvalModulePlugin:"
)
OS3_JAVA_HOME="${KFM_STORES_JAVA21_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
NEO4J_VERSION="5.26.30"   # keep in sync with tools/stores/neo4j/pom.xml

# ---- locations --------------------------------------------------------------------------------------------------
KFM_STORES_HOME="${KFM_STORES_HOME:-$HOME/.cache/kfm-stores}"
STATE_DIR="$KFM_STORES_HOME/state"      # pid files and stamps
LOG_DIR="$KFM_STORES_HOME/logs"

# Search engines refuse to run as root. As root they run as the unprivileged system user "kfmstores", and each
# tree (install, config, data, logs) must be writable by that user and reachable, so it cannot live under /root: it
# goes to /opt/kfm-stores/<engine> (override with KFM_STORES_ES_BASE / KFM_STORES_OS_BASE /
# KFM_STORES_CLUSTER_BASE). As a normal user, it lives in the cache dir and runs as that user.
if [ "$(id -u)" = 0 ]; then
  SEARCH_USER="${KFM_STORES_ES_USER:-kfmstores}"
  SEARCH_ROOT="/opt/kfm-stores"
else
  SEARCH_USER="$(id -un)"
  SEARCH_ROOT="$KFM_STORES_HOME"
fi
ES_USER="$SEARCH_USER"
SEARCH_HOST="127.0.0.1"
# The multi-node cluster (up.sh --search-nodes N): node i listens on HTTP 9210+i and transport 9310+i.
SEARCH_CLUSTER_ENGINE="${KFM_SEARCH_CLUSTER_ENGINE:-opensearch}"
SEARCH_CLUSTER_BASE="${KFM_STORES_CLUSTER_BASE:-$SEARCH_ROOT/search-cluster}"
SEARCH_CLUSTER_NODES_FILE="$STATE_DIR/search-cluster.nodes"   # node count of the last cluster up.sh started

# search_select ENGINE [NODE]: sets the SE_* variables for one search server. ENGINE is elasticsearch,
# opensearch or opensearch3; without NODE it is that engine's single-node server (9200 / 9201 / 9202), with NODE (1..) it is node NODE
# of the multi-node cluster. The install (SE_HOME) is per engine and shared by the cluster's nodes; config, data,
# logs and the pid file are per server.
search_select() {
  SE_ENGINE="$1"; SE_NODE="${2:-}"; SE_JAVA_HOME=""
  case "$SE_ENGINE" in
    elasticsearch)
      SE_VERSION="$ES_VERSION"; SE_DIST_GAV="$ES_DIST_GAV"; SE_MODULE_GROUP="$ES_MODULE_GROUP"
      SE_MODULES=("${ES_MODULES[@]}"); SE_SERVER_EXCLUDE="org.elasticsearch:*"; SE_BIN="elasticsearch"
      SE_ENV_PREFIX="ES"; SE_CONFIG_FILE="elasticsearch.yml"; SE_VERSION_KEY="elasticsearch.version"
      SE_JAVA_VERSION="1.8"; SE_MANAGERS_KEY="cluster.initial_master_nodes"
      SE_INSTALL_BASE="${KFM_STORES_ES_BASE:-$SEARCH_ROOT/elasticsearch}"
      SE_SINGLE_PORT=9200 ;;
    opensearch|opensearch3)
      SE_MODULE_GROUP="$OS_MODULE_GROUP"; SE_SERVER_EXCLUDE="org.opensearch:opensearch"; SE_BIN="opensearch"
      SE_ENV_PREFIX="OPENSEARCH"; SE_CONFIG_FILE="opensearch.yml"; SE_VERSION_KEY="opensearch.version"
      SE_MANAGERS_KEY="cluster.initial_cluster_manager_nodes"
      if [ "$SE_ENGINE" = opensearch ]; then
        SE_VERSION="$OS_VERSION"; SE_DIST_GAV="$OS_DIST_GAV"; SE_MODULES=("${OS_MODULES[@]}"); SE_JAVA_VERSION="11"
        SE_INSTALL_BASE="${KFM_STORES_OS_BASE:-$SEARCH_ROOT/opensearch}"; SE_SINGLE_PORT=9201
      else
        SE_VERSION="$OS3_VERSION"; SE_DIST_GAV="$OS3_DIST_GAV"; SE_MODULES=("${OS3_MODULES[@]}"); SE_JAVA_VERSION="21"
        SE_INSTALL_BASE="${KFM_STORES_OS3_BASE:-$SEARCH_ROOT/opensearch3}"; SE_SINGLE_PORT=9202
        SE_JAVA_HOME="$OS3_JAVA_HOME"
      fi ;;
    *) die "unknown search engine '$SE_ENGINE' (expected elasticsearch, opensearch or opensearch3)" ;;
  esac
  SE_DIST="$SE_BIN"   # the distribution's own name: elasticsearch-<v>.zip, opensearch-<v>.zip
  SE_HOME="$SE_INSTALL_BASE/$SE_DIST-$SE_VERSION"
  if [ -z "$SE_NODE" ]; then
    SE_LABEL="$SE_ENGINE"
    SE_DIR="$SE_INSTALL_BASE"
    SE_HTTP_PORT="$SE_SINGLE_PORT"; SE_TRANSPORT_PORT=$(( SE_SINGLE_PORT + 100 ))
    case "$SE_ENGINE" in
      opensearch) SE_CLUSTER_NAME="kfm-stores-os" ;;
      opensearch3) SE_CLUSTER_NAME="kfm-stores-os3" ;;
      *) SE_CLUSTER_NAME="kfm-stores" ;;
    esac
    SE_NODE_NAME="$SE_CLUSTER_NAME"
  else
    SE_LABEL="search-cluster node-$SE_NODE ($SE_ENGINE)"
    SE_DIR="$SEARCH_CLUSTER_BASE/node-$SE_NODE"
    SE_HTTP_PORT=$(( 9210 + SE_NODE )); SE_TRANSPORT_PORT=$(( 9310 + SE_NODE ))
    SE_CLUSTER_NAME="kfm-stores-cluster"; SE_NODE_NAME="node-$SE_NODE"
  fi
  SE_CONF="$SE_DIR/config"
  SE_DATA="$SE_DIR/data"
  SE_LOGS="$SE_DIR/logs"
  SE_PIDFILE="$SE_DIR/run/$SE_ENGINE.pid"
  SE_LOG_FILE="$SE_LOGS/$SE_CLUSTER_NAME.log"
}

NEO4J_BASE="$KFM_STORES_HOME/neo4j"
NEO4J_HOME="$NEO4J_BASE/home"
NEO4J_BUILD="$NEO4J_BASE/build"
NEO4J_LIB="$NEO4J_BASE/lib"            # runtime classpath (server, and the Java driver the probe uses)
NEO4J_PIDFILE="$STATE_DIR/neo4j.pid"
NEO4J_LOG_FILE="$LOG_DIR/neo4j.log"
NEO4J_HOST="127.0.0.1"
NEO4J_PORT="7687"
# Neo4j's page cache (off-heap, allocated only as pages are read, so a small store costs no more). Neo4j's
# guidance is to fit the store: the bench's 10M-node graph is a 2.5 GB store, and with 256 MB its scoped
# capture took 22-24 s (evicting and re-reading pages) against 13.5-15.6 s with 3 GB.
NEO4J_PAGECACHE_MB="${KFM_STORES_NEO4J_PAGECACHE_MB:-3072}"

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
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # A killed server whose parent is gone can stay a zombie (a container's init may never reap it):
  # kill -0 still succeeds on it, but it is dead.
  [ "$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

es_curl() { curl -sS --max-time 10 "$@"; }
se_url() { echo "http://$SEARCH_HOST:$SE_HTTP_PORT"; }

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
