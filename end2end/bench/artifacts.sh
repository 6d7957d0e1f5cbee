#!/usr/bin/env bash
# `make bench-artifacts`: a release Gatehouse on a throwaway database and artifact folder, and
# the official MLflow client streaming 512 MiB through it each way.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
python=${1:?path to the mlflow venv python}
port=${2:-3422}
source "$root/end2end/serve.sh"
gatehouse_work
token=$(gatehouse_token bench-artifacts bench)
export ARTIFACT_ROOT="$work/artifacts"
gatehouse_serve "$port"
mkdir -p "$root/target"
MLFLOW_TRACKING_URI="http://127.0.0.1:$port" MLFLOW_TRACKING_TOKEN="$token" GATEHOUSE_PID="$pid" \
  GATEHOUSE_BIN="$root/target/release/server" BENCH_TABLE="$root/target/bench-table.tsv" BENCH_DIR="$work" \
  "$python" -W ignore "$root/end2end/bench/artifacts.py"
