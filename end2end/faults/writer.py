"""Writes to Gatehouse until the server goes away, recording every write it got a success for.

Four threads send MLflow log-batch requests (10 metrics each, keys f<round>_<thread>_<k>, one
step per batch) and OpenLineage COMPLETE events (a new run id each). Each acknowledged write is
appended to the acknowledgement file, flushed, before the next request.
"""

import json
import sys
import threading
import urllib.error
import urllib.request
import uuid

base, token, run_id, round_no, acked_path = sys.argv[1:6]
lock = threading.Lock()
acked = open(acked_path, "a", encoding="utf-8")


def post(path, body):
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as res:
        return res.status


def record(line):
    with lock:
        acked.write(line + "\n")
        acked.flush()


def work(thread):
    step = 0
    try:
        while True:
            step += 1
            prefix = f"f{int(round_no):02d}_{thread}"
            metrics = [
                {"key": f"{prefix}_{k}", "value": step + k / 10, "timestamp": 1_700_000_000_000 + step, "step": step}
                for k in range(10)
            ]
            if post("/api/2.0/mlflow/runs/log-batch", {"run_id": run_id, "metrics": metrics}) == 200:
                record(f"batch\t{prefix}\t{step}")
            lineage_run = str(uuid.uuid4())
            event = {
                "eventType": "COMPLETE",
                "eventTime": "2026-11-01T10:00:00Z",
                "run": {"runId": lineage_run},
                "job": {"namespace": "faults", "name": f"job_{thread}"},
                "inputs": [{"namespace": "faults", "name": f"in_{thread}"}],
                "outputs": [{"namespace": "faults", "name": f"out_{step % 7}"}],
                "producer": "https://example.com/faults",
                "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent",
            }
            if post("/api/v1/lineage", event) == 201:
                record(f"lineage\t{lineage_run}\t-")
    except (urllib.error.URLError, ConnectionError, OSError):
        return  # the server was killed


threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
