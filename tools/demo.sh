#!/usr/bin/env bash
# The main job: start the real stores, then apply → verify → rollback → verify every example
# bundle on a scratch copy of migrations/, plus one bundle that must fail closed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
bash tools/stores/up.sh
# shellcheck disable=SC1091
source tools/stores/env.sh
NX_DAEMON=false NX_NO_CLOUD=true npx nx run-many -t build --outputStyle=static >/dev/null
exec node tools/demo/run.mjs "$@"
