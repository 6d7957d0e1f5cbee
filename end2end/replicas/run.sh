#!/usr/bin/env bash
# `make replicas`: Gatehouse as a team outgrowing one machine runs it. PostgreSQL, moto's S3
# server for the model files, three release servers sharing them, HAProxy (Debian's) in front.
# 32 clients write through the balancer for SECONDS: 12 official MLflow clients (runs, batches,
# files, ends), 8 official OpenLineage clients, 6 A/B pipelines posting a day of results per
# request and 6 promotion loops (request, two approvals). Every 10 s one replica is SIGKILLed
# and restarted. Then: every acknowledged write is stored, the audit chain verifies with no gap
# or fork, every 5xx was a request the killed replica had open (counted), and a session made on
# one replica works on the others.
#
#   end2end/replicas/run.sh MLFLOW_PYTHON OPENLINEAGE_PYTHON [PORT] [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mlflow_python=${1:?the MLflow venv python}
lineage_python=${2:?the OpenLineage venv python}
port=${3:-3425}
seconds=${4:-60}
here="$root/end2end/replicas"
source "$root/end2end/cluster.sh"
cluster_work
server="$root/target/release/server"
base="http://127.0.0.1:$port"
replica_ports=($((port + 1)) $((port + 2)) $((port + 3)))

cluster_postgres $((port + 4))
cluster_s3 $((port + 5))
export AUDIT_SIGNING_KEY_FILE="$work/audit-signing.key"
"$server" create-signing-key "$AUDIT_SIGNING_KEY_FILE" >/dev/null
"$server" migrate >/dev/null

# The people: a scientist (runs, lineage, A/B results, promotion requests), two reviewers
# (approvals need a token they made themselves, so they sign in and make one), an admin.
password="replica rehearsal password"
user() { echo "$password" | "$server" create-user --username "$1" --role "$2" --password-stdin >/dev/null 2>&1; }
user rep-scientist scientist
user rep-reviewer1 reviewer
user rep-reviewer2 reviewer
user rep-admin admin

serve_args=(--public-url "$base" --client-ip-header x-forwarded-for)
for n in 1 2 3; do cluster_replica "$n" "${replica_ports[n - 1]}" "${serve_args[@]}"; done
cluster_balancer "$port" "${replica_ports[@]}"

# A session made by signing in on replica 1 directly.
sign_in() {
  local jar=$1 user=$2 at=$3
  curl -fsS -o /dev/null -c "$jar" -H "origin: $base" -H 'accept: text/html' \
    --data-urlencode "username=$user" --data-urlencode "password=$password" --data-urlencode "next=/" \
    "$at/api/sign_in"
}
# A token made by its owner in a session (what may approve), through the balancer.
own_token() {
  local jar="$work/$1.jar"
  sign_in "$jar" "$1" "$base"
  curl -fsS -b "$jar" -H "origin: $base" -H 'content-type: application/json' \
    -d '{"name":"replica rehearsal"}' "$base/api/v1/tokens" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
TOKENS=$(python3 -c 'import json,sys; print(json.dumps(dict(zip(["scientist","reviewer1","reviewer2","admin"], sys.argv[1:]))))' \
  "$(own_token rep-scientist)" "$(own_token rep-reviewer1)" "$(own_token rep-reviewer2)" "$(own_token rep-admin)")
export TOKENS GATEHOUSE_URL="$base" MLFLOW_TRACKING_URI="$base"
MLFLOW_TRACKING_TOKEN=$(python3 -c 'import json,os; print(json.loads(os.environ["TOKENS"])["scientist"])')
export MLFLOW_TRACKING_TOKEN
"$mlflow_python" -W ignore "$here/writers.py" setup "$work/state.json" >"$work/setup.out" 2>&1 ||
  { cat "$work/setup.out"; exit 1; }

acked="$work/acked.jsonl"
kills="$work/kills.txt"
: >"$acked"
: >"$kills"
echo "32 clients through HAProxy for ${seconds} s; a replica is SIGKILLed and restarted every 10 s"
"$mlflow_python" -W ignore "$here/writers.py" run "$work/state.json" "$seconds" "$acked" >"$work/writers.out" 2>&1 &
writers=$!
"$lineage_python" -W ignore "$here/lineage.py" "$seconds" "$acked" >"$work/lineage.out" 2>&1 &
lineage=$!
start=$(date +%s)
k=0
while [ $(($(date +%s) - start + 10)) -le "$seconds" ]; do
  sleep 10
  n=$((k % 3 + 1))
  k=$((k + 1))
  cluster_kill "$n"
  echo "$(date +%s.%N) $n" >>"$kills"
  cluster_replica "$n" "${replica_ports[n - 1]}" "${serve_args[@]}"
  printf 'kill %d: replica %d killed and back; %s writes acknowledged so far\n' "$k" "$n" "$(wc -l <"$acked")"
done
status=0
wait "$writers" || status=1
wait "$lineage" || status=1
tail -n 1 "$work/writers.out" "$work/lineage.out"
grep -h "client saw" "$work/writers.out" "$work/lineage.out" | head -n 20 || true

PSQL="$(cluster_pg_bin)/psql -h 127.0.0.1 -p $pg_port -U gatehouse -d gatehouse -v ON_ERROR_STOP=1 -qAtX" \
  "$mlflow_python" -W ignore "$here/check.py" "$acked" "$work/haproxy.log" "$kills" || status=1

if "$server" verify-audit >"$work/verify.txt" 2>&1; then
  echo "ok   server verify-audit: $(tail -n 1 "$work/verify.txt")"
else
  echo "FAIL server verify-audit:"; cat "$work/verify.txt"; status=1
fi

# The session made on replica 1 is good on 2 and 3 and through the balancer.
sign_in "$work/session.jar" rep-reviewer1 "http://127.0.0.1:${replica_ports[0]}"
for at in "http://127.0.0.1:${replica_ports[1]}" "http://127.0.0.1:${replica_ports[2]}" "$base"; do
  who=$(curl -fsS -b "$work/session.jar" "$at/api/v1/me" | python3 -c 'import json,sys; print(json.load(sys.stdin)["username"])' || true)
  if [ "$who" = rep-reviewer1 ]; then echo "ok   a session made on replica 1 works at $at"; else
    echo "FAIL a session made on replica 1 is refused at $at"; status=1; fi
done

# Periodic jobs ran on one replica at a time: each job's lease has one holder.
echo "job leases: $(cluster_psql -c "SELECT string_agg(job || '=' || holder, ', ') FROM job_leases")"
if [ "$status" -ne 0 ]; then
  for n in 1 2 3; do
    echo "--- replica $n log: first warnings and errors"
    grep -v tower_http "$work/replica-$n.log" | grep -m 10 -E "WARN|ERROR|panicked" || true
  done
fi
exit "$status"
