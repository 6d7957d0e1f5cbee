#!/usr/bin/env bash
# The official openlineage-python client against a release Gatehouse on a throwaway database:
# a scientist's API token is created with the CLI and handed to the client as its api_key.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
python=${1:?path to the venv python}
port=${2:-3419}
work=$(mktemp -d)
export DATABASE_URL="sqlite://$work/lineage.db" GATEHOUSE_LOG=warn
echo "client-test password" | "$root/target/release/server" create-user --username pipeline-ci --role scientist --password-stdin
token=$("$root/target/release/server" create-token --username pipeline-ci --name openlineage-client)
LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$root/target/site" \
  "$root/target/release/server" serve >"$work/server.log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
if ! GATEHOUSE_URL="http://127.0.0.1:$port" GATEHOUSE_TOKEN="$token" \
  "$python" -W ignore "$root/end2end/openlineage/client_roundtrip.py"; then
  echo "--- server log (last 40 lines) ---"
  tail -n 40 "$work/server.log"
  exit 1
fi
