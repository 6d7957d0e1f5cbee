"""After the kills: every acknowledged write is in the database, no batch is half-written, every
stored batch has its audit entry, and SQLite's integrity check passes."""

import sqlite3
import sys

db_path, run_id, acked_path = sys.argv[1:4]
db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
problems = []

acked_batches = acked_lineage = 0
for line in open(acked_path, encoding="utf-8"):
    kind, key, step = line.rstrip("\n").split("\t")
    if kind == "batch":
        acked_batches += 1
        (n,) = db.execute(
            "SELECT count(*) FROM metric_history WHERE run_uuid = ? AND substr(key, 1, length(key) - 2) = ? AND step = ?",
            (run_id, key, int(step)),
        ).fetchone()
        if n != 10:
            problems.append(f"acknowledged batch {key} step {step}: {n} of 10 metrics stored")
    else:
        acked_lineage += 1
        (n,) = db.execute("SELECT count(*) FROM lineage_events WHERE run_id = ?", (key,)).fetchone()
        if n != 1:
            problems.append(f"acknowledged OpenLineage event for run {key}: {n} stored")

partial = db.execute(
    "SELECT substr(key, 1, length(key) - 2) AS batch, step, count(*) FROM metric_history "
    "WHERE run_uuid = ? GROUP BY batch, step HAVING count(*) != 10",
    (run_id,),
).fetchall()
for batch, step, n in partial:
    problems.append(f"half-written batch {batch} step {step}: {n} of 10 metrics")

(stored_batches,) = db.execute(
    "SELECT count(*) FROM (SELECT DISTINCT substr(key, 1, length(key) - 2), step FROM metric_history WHERE run_uuid = ?)",
    (run_id,),
).fetchone()
(audited_batches,) = db.execute(
    "SELECT count(*) FROM audit_log WHERE action = 'mlflow.run.log_batch' AND object_id = ?", (run_id,)
).fetchone()
if stored_batches != audited_batches:
    problems.append(f"{stored_batches} batches stored but {audited_batches} audit entries for them")
(stored_events,) = db.execute("SELECT count(*) FROM lineage_events WHERE body LIKE '%example.com/faults%'").fetchone()

integrity = db.execute("PRAGMA integrity_check").fetchall()
if integrity != [("ok",)]:
    problems.append(f"integrity_check: {integrity}")

print(
    f"acknowledged: {acked_batches} batches, {acked_lineage} OpenLineage events; "
    f"stored: {stored_batches} batches ({audited_batches} audited), {stored_events} events; "
    f"integrity_check: {integrity[0][0]}"
)
for p in problems[:20]:
    print("FAIL", p)
sys.exit(1 if problems else 0)
