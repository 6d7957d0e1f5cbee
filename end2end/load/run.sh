#!/usr/bin/env bash
# `make load`: 60 s of mixed traffic at 64 connections against a release Gatehouse with the demo
# workspace on a throwaway database, from wrk (Debian's package) on 127.0.0.1. Server-rendered
# pages, API reads, MLflow log-batch writes and OpenLineage ingestion run at the same time, one
# wrk per kind of traffic. Prints requests/s and p50/p99 per route, errors, the server's peak
# RSS and any "database is locked" in its log; exits non-zero when a target is missed.
#
#   end2end/load/run.sh [PORT] [SECONDS]
#
# With LOAD_REPLICAS=N, the same traffic goes through HAProxy to N servers on one PostgreSQL
# (`make load REPLICAS=3`).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
port=${1:-3420}
duration=${2:-60}
base="http://127.0.0.1:$port"
replicas=${LOAD_REPLICAS:-0}
source "$root/end2end/serve.sh"
if [ "$replicas" -gt 0 ]; then
  # Several servers on one PostgreSQL behind HAProxy (end2end/cluster.sh), the balancer on
  # PORT and the servers on the ports after it.
  source "$root/end2end/cluster.sh"
  cluster_work
  cluster_postgres $((port + replicas + 1))
  export ARTIFACT_ROOT="$work/artifacts" AUDIT_SIGNING_KEY_FILE="$work/audit-signing.key"
  "$root/target/release/server" create-signing-key "$AUDIT_SIGNING_KEY_FILE" >/dev/null
  "$root/target/release/server" migrate >/dev/null
  export GATEHOUSE_LOG=info
  cluster_replica 0 $((port + 1)) --demo
  cluster_stop 0
  ports=()
  for n in $(seq 1 "$replicas"); do
    cluster_replica "$n" $((port + n)) --client-ip-header x-forwarded-for
    ports+=($((port + n)))
  done
  cluster_balancer "$port" "${ports[@]}"
  pid=${replica_pid[1]}
  echo "$replicas servers on PostgreSQL behind HAProxy"
else
  gatehouse_work
  export GATEHOUSE_LOG=info
  # The demo is seeded into an empty database, so the load-test accounts come after it. The
  # server measured is then a fresh start on that database, as in production (seeding
  # allocates what a serving process never does).
  gatehouse_serve "$port" --demo
  kill "$pid"; wait "$pid" 2>/dev/null || true
  gatehouse_serve "$port"
fi
scientist=$(gatehouse_token load-scientist load)
echo "load test password" | "$root/target/release/server" create-user --username load-auditor --role auditor --password-stdin >&2
auditor=$("$root/target/release/server" create-token --username load-auditor --name load)

api() { curl -fsS -H "authorization: Bearer $scientist" -H 'content-type: application/json' "$@"; }

# Targets for the pages: the demo's runs, A/B test, fairness report and a dataset.
exp_id=$(api "$base/api/2.0/mlflow/experiments/get-by-name?experiment_name=credit-default" | python3 -c 'import json,sys; print(json.load(sys.stdin)["experiment"]["experiment_id"])')
run_ids=$(api -X POST "$base/api/2.0/mlflow/runs/search" -d "{\"experiment_ids\":[\"$exp_id\"],\"max_results\":3}" \
  | python3 -c 'import json,sys; print("&".join("run=" + r["info"]["run_id"] for r in json.load(sys.stdin)["runs"]))')
first_run=${run_ids%%&*}; first_run=${first_run#run=}
ab_id=$(api "$base/api/v1/experiments" | python3 -c 'import json,sys; v=json.load(sys.stdin); v=v.get("experiments", v) if isinstance(v, dict) else v; print(v[0]["id"])')
report_id=$(api "$base/api/v1/fairness/reports" | python3 -c 'import json,sys; print(json.load(sys.stdin)["reports"][0]["report_id"])')
dataset=$(api "$base/api/v1/search?q=credit&limit=20" | python3 -c 'import json,sys,urllib.parse as u; r=[x for x in json.load(sys.stdin)["results"] if x["type"]=="DATASET"]; print(u.quote(r[0]["nodeId"], safe=""))')

# A run that the log-batch traffic writes to.
write_exp=$(api -X POST "$base/api/2.0/mlflow/experiments/create" -d '{"name":"load-test"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["experiment_id"])')
write_run=$(api -X POST "$base/api/2.0/mlflow/runs/create" -d "{\"experiment_id\":\"$write_exp\",\"start_time\":1700000000000}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run"]["info"]["run_id"])')

lua="$work/lua"
mkdir -p "$lua"
# GET with a bearer token, cycling through paths.
cat >"$lua/get.lua" <<LUA
local paths = {}
for p in string.gmatch(os.getenv("LOAD_PATHS"), "[^ ]+") do table.insert(paths, p) end
local i = 0
wrk.headers["Authorization"] = "Bearer " .. os.getenv("LOAD_TOKEN")
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
LUA
# MLflow log-batch: 10 metric points per request, steps advancing.
cat >"$lua/log_batch.lua" <<LUA
local step = 0
local thread_id = 0
setup = function(thread) end
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("LOAD_TOKEN")
wrk.headers["Content-Type"] = "application/json"
request = function()
  step = step + 1
  local m = {}
  for k = 1, 10 do
    table.insert(m, string.format('{"key":"load_%d","value":%d.5,"timestamp":%d,"step":%d}', k, step, 1700000000000 + step, step))
  end
  local body = string.format('{"run_id":"%s","metrics":[%s]}', os.getenv("LOAD_RUN"), table.concat(m, ","))
  return wrk.format(nil, "/api/2.0/mlflow/runs/log-batch", nil, body)
end
LUA
# OpenLineage: a COMPLETE event per request, each for a new run (so none is a duplicate).
cat >"$lua/lineage.lua" <<LUA
local n = 0
local salt = os.getenv("LOAD_SALT")
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("LOAD_TOKEN")
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local run = string.format("%s-4000-8000-%012d", salt, n)
  local body = '{"eventType":"COMPLETE","eventTime":"2026-11-01T10:00:00Z",'
    .. '"run":{"runId":"' .. run .. '"},'
    .. '"job":{"namespace":"load","name":"job_' .. (n % 50) .. '"},'
    .. '"inputs":[{"namespace":"load","name":"in_' .. (n % 50) .. '"}],'
    .. '"outputs":[{"namespace":"load","name":"out_' .. (n % 50) .. '"}],'
    .. '"producer":"https://example.com/load","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent"}'
  return wrk.format(nil, "/api/v1/lineage", nil, body)
end
LUA

# name | connections | script | token | paths (space-separated) — 64 connections in all.
routes=(
  "overview|24|get|$scientist|/"
  "runs compare|6|get|$scientist|/runs/compare?$run_ids"
  "lineage|5|get|$scientist|/lineage?node=$dataset"
  "experiment runs|4|get|$scientist|/runs/experiment/$exp_id"
  "A/B test|4|get|$scientist|/experiments/$ab_id"
  "fairness report|4|get|$scientist|/fairness/$report_id"
  "audit|4|get|$auditor|/audit"
  "API reads|5|get|$scientist|/api/v1/experiments /api/v1/models /api/2.0/mlflow/runs/get?run_id=$first_run /api/v1/fairness/reports"
  "MLflow log-batch|4|log_batch|$scientist|-"
  "OpenLineage ingest|4|lineage|$scientist|-"
)

echo "warming up, then ${duration} s at 64 connections…"
curl -fsS -o /dev/null -H "authorization: Bearer $scientist" "$base/"
# Peak RSS from here on: clear the high-water mark the start-up left.
servers=("$pid")
if [ "$replicas" -gt 0 ]; then servers=("${replica_pid[@]:1}"); fi
for p in "${servers[@]}"; do echo 5 >"/proc/$p/clear_refs" 2>/dev/null || true; done
pids=()
i=0
for r in "${routes[@]}"; do
  IFS='|' read -r name conns script token paths <<<"$r"
  LOAD_PATHS="$paths" LOAD_TOKEN="$token" LOAD_RUN="$write_run" LOAD_SALT=$(printf '%08x-%04x' $RANDOM $i) \
    wrk -t1 -c"$conns" -d"${duration}s" --timeout 10s --latency -s "$lua/$script.lua" "$base" >"$work/wrk-$i.txt" 2>&1 &
  pids+=($!)
  i=$((i + 1))
done
for p in "${pids[@]}"; do wait "$p"; done
rss_kb=$(for p in "${servers[@]}"; do awk '/VmHWM/ { print $2 }' "/proc/$p/status"; done | sort -n | tail -n 1)

# wrk's latency lines read like "99%   12.34ms"; convert to ms.
ms() { awk -v want="$1" '$1 == want { v = $2; u = v; gsub(/[0-9.]/, "", u); gsub(/[a-z]/, "", v);
  f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1; printf "%.2f", v * f }' "$2"; }
printf '\n%-20s %6s %10s %10s %10s %8s\n' route conns "req/s" "p50 ms" "p99 ms" errors
status=0
total_errors=0
i=0
for r in "${routes[@]}"; do
  IFS='|' read -r name conns _ _ _ <<<"$r"
  f="$work/wrk-$i.txt"
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$f")
  p50=$(ms "50%" "$f")
  p99=$(ms "99%" "$f")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' "$f")
  sock=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$f")
  errors=$(( ${non2xx:-0} + ${sock:-0} ))
  total_errors=$((total_errors + errors))
  printf '%-20s %6s %10s %10s %10s %8s\n' "$name" "$conns" "${rps:-0}" "${p50:-?}" "${p99:-?}" "$errors"
  if [ "$name" = overview ]; then overview_rps=${rps:-0}; overview_p99=${p99:-9999}; fi
  i=$((i + 1))
done
locked=$(cat "$work"/*.log | grep -c "database is locked" || true)
printf '\nserver peak RSS (the largest of %s): %.1f MB; "database is locked" in the log: %s; errors: %s\n' "${#servers[@]}" "$(echo "$rss_kb / 1024" | bc -l)" "$locked" "$total_errors"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); load generator on the same cores"
check() { if [ "$2" = 1 ]; then echo "pass  $1"; else echo "FAIL  $1"; status=1; fi; }
check "0 errors" "$([ "$total_errors" -eq 0 ] && echo 1 || echo 0)"
check "no \"database is locked\"" "$([ "$locked" -eq 0 ] && echo 1 || echo 0)"
if [ "$replicas" -eq 0 ]; then
  check "overview ≥ 3,000 req/s (measured $overview_rps)" "$([ "$overview_rps" -ge 3000 ] && echo 1 || echo 0)"
  check "overview p99 ≤ 50 ms (measured $overview_p99)" "$(awk -v p="$overview_p99" 'BEGIN { print (p <= 50) ? 1 : 0 }')"
else
  # The single-server targets do not apply: the balancer, PostgreSQL and every server share
  # the load generator's cores here. The figures are reported, not judged.
  echo "overview through the balancer: $overview_rps req/s, p99 $overview_p99 ms"
fi
check "server RSS ≤ 150 MB" "$([ "$rss_kb" -le $((150 * 1024)) ] && echo 1 || echo 0)"
if [ "$status" -ne 0 ]; then
  for i in $(seq 0 $((${#routes[@]} - 1))); do grep -H -E "Non-2xx|Socket errors" "$work/wrk-$i.txt" || true; done
  cat "$work"/*.log | grep -m5 -E "ERROR|WARN" || true
fi
exit "$status"
