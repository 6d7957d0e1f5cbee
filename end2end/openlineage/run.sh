#!/usr/bin/env bash
# The official openlineage-python client against a release Gatehouse on a throwaway database:
# a scientist's API token is created with the CLI and handed to the client as its api_key.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
python=${1:?path to the venv python}
port=${2:-3419}
source "$root/end2end/serve.sh"
gatehouse_work
token=$(gatehouse_token pipeline-ci openlineage-client)
gatehouse_serve "$port"
if ! GATEHOUSE_URL="http://127.0.0.1:$port" GATEHOUSE_TOKEN="$token" \
  "$python" -W ignore "$root/end2end/openlineage/client_roundtrip.py"; then
  gatehouse_log_tail
  exit 1
fi
