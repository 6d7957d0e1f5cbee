#!/usr/bin/env bash
# Runs the Playwright suite (hydrated and JavaScript-disabled projects) against the release
# build, served with demo data from a throwaway database. Stops only the server it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=${1:-3417}
work=$(mktemp -d)
DATABASE_URL="sqlite://$work/e2e.db" \
LEPTOS_SITE_ADDR="127.0.0.1:$port" \
LEPTOS_SITE_ROOT="$root/target/site" \
GATEHOUSE_LOG=warn \
  "$root/target/release/server" serve --demo >"$work/server.log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$root/end2end"
if ! GATEHOUSE_URL="http://127.0.0.1:$port" npx playwright test; then
  echo "--- server log (last 40 lines) ---"
  tail -n 40 "$work/server.log"
  exit 1
fi
