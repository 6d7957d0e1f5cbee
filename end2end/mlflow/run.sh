#!/usr/bin/env bash
# The official MLflow client against a release Gatehouse on a throwaway database: a scientist's
# API token is created with the CLI and handed to the client as MLFLOW_TRACKING_TOKEN.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
python=${1:?path to the venv python}
port=${2:-3418}
source "$root/end2end/serve.sh"
gatehouse_work
token=$(gatehouse_token mlflow-ci mlflow-client)
gatehouse_serve "$port"
if ! MLFLOW_TRACKING_URI="http://127.0.0.1:$port" MLFLOW_TRACKING_TOKEN="$token" \
  "$python" -W ignore "$root/end2end/mlflow/client_roundtrip.py"; then
  gatehouse_log_tail
  exit 1
fi
