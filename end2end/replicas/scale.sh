#!/usr/bin/env bash
# `make bench-replicas`: how audited writes scale with servers on one PostgreSQL. For 1, 2 and
# 3 servers behind HAProxy, wrk sends MLflow `runs/create` (a run and its audit entry in one
# transaction) from 32 connections for SECONDS; the figure is audit entries committed per
# second, counted in the database, with wrk's p50/p99. Then the same with each request's
# transaction doing nothing but the audit append, to show where the chain's one writer stops
# it: the time the chain's lock is held per entry (append to commit) bounds every server's
# writes together.
#
#   end2end/replicas/scale.sh [PORT] [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
port=${1:-3450}
seconds=${2:-15}
source "$root/end2end/serve.sh"
source "$root/end2end/cluster.sh"
cluster_work
server="$root/target/release/server"
cluster_postgres $((port + 9))
export ARTIFACT_ROOT="$work/artifacts" AUDIT_SIGNING_KEY_FILE="$work/audit-signing.key"
"$server" create-signing-key "$AUDIT_SIGNING_KEY_FILE" >/dev/null
"$server" migrate >/dev/null
token=$(gatehouse_token scale-scientist scale 2>/dev/null)
base="http://127.0.0.1:$port"

cat >"$work/create.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"experiment_id":"' .. os.getenv("EXP") .. '","start_time":1700000000000}'
LUA

ms() { awk -v want="$1" '$1 == want { v = $2; u = v; gsub(/[0-9.]/, "", u); gsub(/[a-z]/, "", v);
  f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : 1; printf "%.1f", v * f }' "$2"; }

printf '%-8s %18s %10s %10s %8s\n' servers "audited writes/s" "p50 ms" "p99 ms" errors
for n in 1 2 3; do
  ports=()
  for i in $(seq 1 "$n"); do
    cluster_replica "$i" $((port + i))
    ports+=($((port + i)))
  done
  cluster_balancer "$port" "${ports[@]}"
  exp=$(curl -fsS -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d "{\"name\":\"scale-$n\"}" "$base/api/2.0/mlflow/experiments/create" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["experiment_id"])')
  before=$(cluster_psql -c "SELECT count(*) FROM audit_log")
  TOKEN=$token EXP=$exp wrk -t2 -c32 -d"${seconds}s" --latency -s "$work/create.lua" \
    "$base/api/2.0/mlflow/runs/create" >"$work/wrk-$n.txt" 2>&1
  after=$(cluster_psql -c "SELECT count(*) FROM audit_log")
  errors=$(awk '/Non-2xx/ { n += $5 } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "$work/wrk-$n.txt")
  printf '%-8s %18.0f %10s %10s %8s\n' "$n" "$(echo "($after - $before) / $seconds" | bc -l)" \
    "$(ms 50% "$work/wrk-$n.txt")" "$(ms 99% "$work/wrk-$n.txt")" "$errors"
  kill "$balancer_pid"; wait "$balancer_pid" 2>/dev/null || true
  balancer_pid=""
  for i in $(seq 1 "$n"); do cluster_stop "$i"; done
done

# The chain's own limit: every audited write holds the chain's lock from its append to its
# commit, so the commits of all servers together cannot pass what one lock can pass with a
# durable commit inside it. Measured with pgbench (from the same package), 32 sessions, each
# transaction taking one lock, inserting one row and committing, in a scratch database.
bin=$(cluster_pg_bin)
"$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U gatehouse probe
"$bin/psql" -h 127.0.0.1 -p "$pg_port" -U gatehouse -d probe -qAtX -c "CREATE TABLE probe (x int)"
cat >"$work/append.sql" <<'SQL'
BEGIN;
SELECT pg_advisory_xact_lock(1);
INSERT INTO probe VALUES (1);
COMMIT;
SQL
tps=$("$bin/pgbench" -h 127.0.0.1 -p "$pg_port" -U gatehouse -n -c 32 -j 2 -T "$seconds" \
  -f "$work/append.sql" probe 2>/dev/null | awk -F'= ' '/^tps/ { printf "%.0f", $2 }')
echo "one lock around a durable commit, 32 sessions: $tps commits/s (the chain's ceiling on this disk)"
