#!/usr/bin/env bash
# A client generated from Gatehouse's own OpenAPI document (openapi-python-client, from PyPI)
# against a release Gatehouse on a throwaway database: if the document does not describe the
# API as served, generation fails or the typed calls below do.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${1:?path to the venv bin directory}
port=${2:-3424}
source "$root/end2end/serve.sh"
gatehouse_work
token=$(gatehouse_token openapi-client generated-client)
gatehouse_serve "$port"
curl -fsS "http://127.0.0.1:$port/api/openapi.json" -o "$work/openapi.json"
# --meta none: a bare package, no pyproject; the warnings name the operations whose bodies are
# not JSON (CSV and policy text uploads), which the generator leaves out.
(cd "$work" && "$venv/openapi-python-client" generate --path openapi.json --meta none \
  --output-path gatehouse_client >generate.log 2>&1) || { cat "$work/generate.log"; exit 1; }
if ! PYTHONPATH="$work" GATEHOUSE_URL="http://127.0.0.1:$port" GATEHOUSE_TOKEN="$token" \
  "$venv/python" -W ignore "$root/end2end/openapi/client_roundtrip.py"; then
  gatehouse_log_tail
  exit 1
fi
