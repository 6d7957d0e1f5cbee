#!/usr/bin/env bash
# The official MLflow client against a release Gatehouse on a throwaway database: a scientist's
# API token is created with the CLI and handed to the client as MLFLOW_TRACKING_TOKEN; two
# reviewers (created with passwords) approve the promotion the artifacts test asks for.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
python=${1:?path to the venv python}
port=${2:-3418}
source "$root/end2end/serve.sh"
gatehouse_work
token=$(gatehouse_token mlflow-ci mlflow-client)
reviewers=""
for r in rev-one rev-two; do
  echo "$r-password-e2e" | "$root/target/release/server" create-user --username "$r" --role reviewer --password-stdin >&2
  reviewers="${reviewers:+$reviewers,}$r:$r-password-e2e"
done
echo "admin-password-e2e" | "$root/target/release/server" create-user --username hooks-admin --role admin --password-stdin >&2
admin_token=$("$root/target/release/server" create-token --username hooks-admin --name webhooks)
export ARTIFACT_ROOT="$work/artifacts"
# The webhook test's receiver listens on loopback, which only an admin's allowance lets webhooks reach.
gatehouse_serve "$port" --public-url "http://127.0.0.1:$port" --webhook-allowed-networks 127.0.0.1
for script in client_roundtrip.py artifacts_roundtrip.py webhooks_roundtrip.py; do
  echo "== $script"
  if ! MLFLOW_TRACKING_URI="http://127.0.0.1:$port" MLFLOW_TRACKING_TOKEN="$token" \
    GATEHOUSE_BIN="$root/target/release/server" REVIEWERS="$reviewers" ADMIN_TOKEN="$admin_token" \
    "$python" -W ignore "$root/end2end/mlflow/$script"; then
    gatehouse_log_tail
    exit 1
  fi
done
