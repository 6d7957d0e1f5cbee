#!/usr/bin/env bash
# `make faults`: a release Gatehouse on a throwaway database is killed with SIGKILL at a random
# moment while four clients write MLflow batches and OpenLineage events, 20 times, restarting
# each time. Afterwards every write that got a success response must be stored, no batch may be
# half-written, every stored batch must have its audit entry, the audit chain must verify and
# SQLite's integrity check must pass. Then a slow client (an upload trickling a byte at a time)
# must not hold up other writers. Last, the security review's attacks (security.py).
#
#   end2end/faults/run.sh [PORT] [KILLS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
port=${1:-3421}
kills=${2:-20}
base="http://127.0.0.1:$port"
source "$root/end2end/serve.sh"
gatehouse_work
db_path="$work/test.db"
token=$(gatehouse_token faults-scientist faults)
acked="$work/acked.tsv"
: >"$acked"

api() { curl -fsS -H "authorization: Bearer $token" -H 'content-type: application/json' "$@"; }

gatehouse_serve "$port"
exp=$(api -X POST "$base/api/2.0/mlflow/experiments/create" -d '{"name":"faults"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["experiment_id"])')
run=$(api -X POST "$base/api/2.0/mlflow/runs/create" -d "{\"experiment_id\":\"$exp\",\"start_time\":1700000000000}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run"]["info"]["run_id"])')
kill -9 "$pid"; wait "$pid" 2>/dev/null || true

for round in $(seq 1 "$kills"); do
  gatehouse_serve "$port"
  python3 "$root/end2end/faults/writer.py" "$base" "$token" "$run" "$round" "$acked" &
  writer=$!
  # A random moment between 0.2 and 1.5 s into the writing.
  sleep "$(python3 -c 'import random; print(round(random.uniform(0.2, 1.5), 2))')"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  wait "$writer"
  printf 'kill %2d: %s acknowledged writes so far\n' "$round" "$(wc -l <"$acked")"
done

# Restarting recovers the write-ahead log; then the checks, on the database as the server left it.
gatehouse_serve "$port"
status=0
python3 "$root/end2end/faults/check.py" "$db_path" "$run" "$acked" || status=1
if "$root/target/release/server" verify-audit >"$work/verify.txt" 2>&1; then
  echo "audit chain: $(tail -n 1 "$work/verify.txt")"
else
  echo "FAIL audit chain:"; cat "$work/verify.txt"; status=1
fi

# A slow client: an upload that sends one byte every 50 ms must not hold up 200 other writes.
python3 - "$base" "$token" "$run" <<'PY' || status=1
import json, socket, sys, threading, time, urllib.request
base, token, run = sys.argv[1:4]
host, port = base.removeprefix("http://").split(":")
stop = threading.Event()
held = []
def trickle():
    s = socket.create_connection((host, int(port)))
    s.sendall((f"POST /api/v1/fairness/analyze?label=label&prediction=pred&attributes=g HTTP/1.1\r\n"
               f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\nContent-Type: text/csv\r\n"
               f"Content-Length: 100000\r\n\r\nlabel,pred,g\n").encode())
    try:
        while not stop.is_set():
            s.sendall(b"1")
            time.sleep(0.05)
        held.append(True)
    except OSError:
        held.append(False)
    s.close()
slow = [threading.Thread(target=trickle) for _ in range(4)]
for t in slow: t.start()
time.sleep(0.5)
times = []
for i in range(200):
    body = json.dumps({"run_id": run, "metrics": [{"key": f"slow_{k}", "value": i, "timestamp": 1, "step": i} for k in range(10)]}).encode()
    req = urllib.request.Request(base + "/api/2.0/mlflow/runs/log-batch", data=body, method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200, r.status
    times.append((time.perf_counter() - t) * 1000)
stop.set()
for t in slow: t.join()
times.sort()
p99 = times[int(len(times) * 0.99) - 1]
print(f"slow clients: 4 uploads trickling 20 bytes/s (held open: {held.count(True)} of 4); "
      f"200 log-batch writes beside them: median {times[100]:.1f} ms, p99 {p99:.1f} ms")
sys.exit(0 if p99 < 500 and held.count(True) == 4 else 1)
PY

# The security review's attacks (decompression bomb, lock-out by guessing, a token acting as
# someone else), on a server that trusts X-Forwarded-For as a proxy would set it.
kill "$pid"; wait "$pid" 2>/dev/null || true
for u in sec-admin:admin sec-reviewer:reviewer; do
  echo "client-test password" | "$root/target/release/server" create-user --username "${u%%:*}" --role "${u##*:}" --password-stdin 2>/dev/null
done
gatehouse_serve "$port" --client-ip-header X-Forwarded-For
python3 "$root/end2end/faults/security.py" "$base" "$pid" "$token" "$db_path" || status=1

if [ "$status" -ne 0 ]; then gatehouse_log_tail; fi
exit "$status"
