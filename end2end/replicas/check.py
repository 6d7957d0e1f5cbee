"""After `make replicas`: every acknowledged write is stored, read back through the balancer
(so through whichever replica answers) and from the database; the audit chain has no gap or
fork; and every 5xx the balancer logged came from a killed replica's own open connections.

    check.py ACKED HAPROXY_LOG KILLS

$PSQL is the command line reaching the database (psql with its flags, space-separated).
"""

import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import mlflow
from mlflow.tracking import MlflowClient

acked_path, haproxy_log, kills_path = sys.argv[1:4]
PSQL = os.environ["PSQL"].split()
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def sql(query):
    out = subprocess.run(PSQL + ["-c", query], check=True, capture_output=True, text=True).stdout
    return [line.split("|") for line in out.splitlines() if line]


acked = [json.loads(line) for line in open(acked_path, encoding="utf-8")]
by_kind = defaultdict(list)
for a in acked:
    by_kind[a["kind"]].append(a)
print("acknowledged writes: " + ", ".join(f"{k} {len(v)}" for k, v in sorted(by_kind.items())))
check(all(by_kind[k] for k in ("run", "batch", "file", "lineage", "ab", "promotion")),
      "every kind of client got writes acknowledged")

# MLflow: runs, their params and metric points, their files (in S3, through any replica).
client = MlflowClient()
runs = {a["run_id"]: {} for a in by_kind["run"]}
for a in by_kind["batch"] + by_kind["file"] + by_kind["finished"]:
    runs[a["run_id"]][a["kind"]] = a


def missing_from_run(item):
    run_id, want = item
    problems = []
    try:
        run = client.get_run(run_id)
    except Exception as e:  # noqa: BLE001 - a missing run is what this looks for
        return [f"run {run_id}: {e}"]
    if "batch" in want:
        if run.data.params != want["batch"]["params"]:
            problems.append(f"run {run_id} params {run.data.params}")
        points = client.get_metric_history(run_id, "loss")
        if len(points) < want["batch"]["points"]:
            problems.append(f"run {run_id} has {len(points)} loss points")
    if "file" in want:
        text = mlflow.artifacts.load_text(f"runs:/{run_id}/{want['file']['path']}")
        if text != want["file"]["text"]:
            problems.append(f"run {run_id} file reads {text!r}")
    if "finished" in want and run.info.status != "FINISHED":
        problems.append(f"run {run_id} is {run.info.status}")
    return problems


with ThreadPoolExecutor(8) as pool:
    problems = [p for ps in pool.map(missing_from_run, runs.items()) for p in ps]
for p in problems[:10]:
    print("     " + p)
check(not problems, f"{len(runs)} MLflow runs with their params, points, files and status, read through the balancer")

stored = {r[0] for r in sql("SELECT run_id FROM lineage_runs WHERE state = 'COMPLETE'")}
lost = [a["run_id"] for a in by_kind["lineage"] if a["run_id"] not in stored]
check(not lost, f"{len(by_kind['lineage'])} OpenLineage runs stored as COMPLETE (missing: {lost[:5]})")

days = {(r[0], r[1]) for r in sql("SELECT DISTINCT test_id::text, day FROM ab_results WHERE metric = 'checkout'")}
lost = [a for a in by_kind["ab"] if (str(a["test_id"]), a["day"]) not in days]
check(not lost, f"{len(by_kind['ab'])} days of A/B results stored (missing: {lost[:5]})")

moves = {(r[0], r[1]): (int(r[2]), int(r[3])) for r in
         sql("SELECT name, alias, version, promotion_id FROM alias_history WHERE promotion_id IS NOT NULL")}
lost = [a for a in by_kind["promotion"]
        if moves.get((a["model"], a["alias"])) != (a["version"], a["request_id"])]
check(not lost, f"{len(by_kind['promotion'])} approved promotions moved their alias (missing: {lost[:5]})")

# The chain, as stored: one entry per seq from 1, each linking to the one before.
n, lo, hi, distinct_prev = (int(x) for x in sql(
    "SELECT count(*), min(seq), max(seq), count(DISTINCT prev_hash) FROM audit_log")[0])
breaks = int(sql("SELECT count(*) FROM audit_log a JOIN audit_log b ON b.seq = a.seq + 1 "
                 "WHERE b.prev_hash <> a.hash")[0][0])
check(lo == 1 and hi == n, f"audit: {n} entries, seq 1..{hi} without a gap")
check(distinct_prev == n and breaks == 0, "audit: no fork (each prev_hash once, each the entry before's hash)")

# 5xx from the balancer: each must be a request a replica had open when it was killed.
kills = [(float(t), f"r{n}") for t, n in (line.split() for line in open(kills_path, encoding="utf-8"))]
GRACE = 0.05
requests = 0
by_kill = Counter()
stray = []
for line in open(haproxy_log, encoding="utf-8", errors="replace"):
    parts = line.rstrip("\n").split("|")
    if len(parts) != 6 or not parts[2].isdigit():
        continue
    requests += 1
    accepted, server, status, state = float(parts[0]), parts[1], int(parts[2]), parts[3]
    if status < 500:
        continue
    # Open at the kill: on the replica killed, accepted before the kill was over (the time
    # is taken once the process is gone; a connection the balancer kept open to it may take a
    # request in the same instant), and ended by the server side (a state starting with S).
    killed = [k for k in kills if k[1] == server and k[0] + GRACE >= accepted and state.startswith("S")]
    if killed:
        by_kill[min(killed)] += 1
    else:
        stray.append(line.strip())
print(f"balancer: {requests} requests, {sum(by_kill.values())} answered 5xx because their replica was killed")
for (t, server), count in sorted(by_kill.items()):
    print(f"     kill of {server} at {t:.3f}: {count} open requests cut")
for s in stray[:10]:
    print("     " + s)
check(not stray, f"no other 5xx ({len(stray)})")

if failures:
    print(f"{len(failures)} checks failed")
    sys.exit(1)
