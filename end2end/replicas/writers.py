"""Writers for `make replicas`: the official MLflow client, A/B test results and promotions.

    writers.py setup STATE            models, versions and the promotion policy, before the clock
    writers.py run STATE SECONDS ACKED  MLflow, A/B and promotion writers until SECONDS pass

Every write that got a success answer is appended to ACKED (one JSON object per line, flushed
before the next request), so the checks can look for each one afterwards. Everything goes
through the balancer ($GATEHOUSE_URL) with API tokens from $TOKENS (JSON: role -> token).
"""

import datetime
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

URL = os.environ["GATEHOUSE_URL"]
TOKENS = json.loads(os.environ["TOKENS"])
MLFLOW_CLIENTS = int(os.environ.get("MLFLOW_CLIENTS", "12"))
AB_CLIENTS = int(os.environ.get("AB_CLIENTS", "6"))
PROMOTION_CLIENTS = int(os.environ.get("PROMOTION_CLIENTS", "6"))

POLICY = """[approvals]
low = 2
medium = 2
high = 2
[[metrics]]
name = "auc"
min = 0.7
[fairness]
required = false
[ab_test]
required_for_challengers = false
[lineage]
require_training_datasets = false
require_digests = false
[artifact]
required = false
"""


class Refused(Exception):
    """A non-success answer: its status and body."""

    def __init__(self, status, body):
        super().__init__(f"{status}: {body[:200]}")
        self.status = status


def call(method, path, who, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"Authorization": f"Bearer {TOKENS[who]}"}
    if data is not None:
        headers["Content-Type"] = "text/plain" if raw is not None else "application/json"
    req = urllib.request.Request(URL + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            text = res.read()
            return json.loads(text) if text else {}
    except urllib.error.HTTPError as e:
        raise Refused(e.code, e.read().decode(errors="replace")) from None


def setup(state_path):
    """A policy for the replica models, and per promotion client a model with two versions."""
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    call("PUT", "/api/v1/policies/*", "admin", raw=POLICY.encode())
    client = MlflowClient()
    exp = client.create_experiment(f"replicas-{uuid.uuid4().hex[:8]}")
    models = []
    for c in range(PROMOTION_CLIENTS):
        name = f"replica-model-{c}"
        client.create_registered_model(name)
        for auc in (0.81, 0.83):
            run = client.create_run(exp)
            client.log_batch(run.info.run_id, metrics=[Metric("auc", auc, 0, 0)])
            client.set_terminated(run.info.run_id)
            client.create_model_version(name, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
        models.append(name)
    with open(state_path, "w", encoding="utf-8") as f:
        json.dump({"tracking_experiment": exp, "models": models}, f)


class Recorder:
    """The acknowledgement file and the failures seen, shared by the writer threads."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.out = open(path, "a", encoding="utf-8")
        self.failures = []

    def ack(self, **entry):
        with self.lock:
            self.out.write(json.dumps(entry) + "\n")
            self.out.flush()

    def failed(self, kind, error):
        with self.lock:
            self.failures.append((time.time(), kind, str(error)[:300]))
        time.sleep(0.1)


def mlflow_writer(n, exp, deadline, rec):
    """The official client as a training job uses it: a run, a batch, a file, the end."""
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    i = 0
    while time.time() < deadline:
        i += 1
        try:
            run_id = client.create_run(exp, run_name=f"w{n}-{i}").info.run_id
            rec.ack(kind="run", run_id=run_id)
            params = [Param("writer", str(n)), Param("iteration", str(i)), Param("lr", "0.01")]
            now = int(time.time() * 1000)
            metrics = [Metric("loss", 1.0 / (s + 1), now, s) for s in range(10)]
            client.log_batch(run_id, metrics=metrics, params=params)
            rec.ack(kind="batch", run_id=run_id, params={p.key: p.value for p in params}, points=10)
            client.log_text(run_id, f"writer {n} iteration {i}\n", "notes/summary.txt")
            rec.ack(kind="file", run_id=run_id, path="notes/summary.txt", text=f"writer {n} iteration {i}\n")
            client.set_terminated(run_id)
            rec.ack(kind="finished", run_id=run_id)
        except Exception as e:  # noqa: BLE001 - the client's own errors, after its retries
            rec.failed("mlflow", e)


def ab_writer(n, deadline, rec):
    """A product team's pipeline: one A/B test, a day of results per request."""
    definition = {
        "name": f"replica test {n} {uuid.uuid4().hex[:6]}",
        "hypothesis": "The new ranker lifts checkout conversion",
        "status": "running",
        "start_date": "2026-01-01",
        "variants": [
            {"name": "control", "weight": 50, "model_version": "ranker@3"},
            {"name": "challenger", "weight": 50, "model_version": "ranker@4"},
        ],
        "metrics": [{"name": "checkout", "type": "binomial"}],
    }
    while True:
        try:
            test = call("POST", "/api/v1/experiments", "scientist", definition)
            break
        except (Refused, OSError) as e:
            rec.failed("ab", e)
            if time.time() > deadline:
                return
    test_id = test.get("id", test.get("experiment", {}).get("id"))
    day = datetime.date(2026, 1, 1)
    while time.time() < deadline:
        d = day.isoformat()
        rows = [
            {"day": d, "variant": "control", "units": 1000},
            {"day": d, "variant": "challenger", "units": 1000},
            {"day": d, "metric": "checkout", "variant": "control", "units": 1000, "conversions": 100},
            {"day": d, "metric": "checkout", "variant": "challenger", "units": 1000, "conversions": 112},
        ]
        try:
            call("POST", f"/api/v1/experiments/{test_id}/results", "scientist", {"rows": rows})
            rec.ack(kind="ab", test_id=test_id, day=d)
            call("GET", f"/api/v1/experiments/{test_id}", "scientist")
        except (Refused, OSError) as e:
            rec.failed("ab", e)
        day += datetime.timedelta(days=1)


def promotion_writer(n, model, deadline, rec):
    """Promotions of one model to a new alias each time: requested, then approved by two."""
    i = 0
    while time.time() < deadline:
        i += 1
        alias = f"slot-{i}"
        version = 1 + i % 2
        try:
            req = call("POST", "/api/v1/promotions", "scientist", {
                "model": model, "version": version, "alias": alias,
                "justification": f"replica rehearsal {n}/{i}",
            })
            rid = req["request"]["request"]["request_id"]
            call("POST", f"/api/v1/promotions/{rid}/approve", "reviewer1", {"comment": "Metrics hold"})
            last = call("POST", f"/api/v1/promotions/{rid}/approve", "reviewer2", {"comment": "Agreed"})
            if last["outcome"]["alias_moved"]:
                rec.ack(kind="promotion", model=model, alias=alias, version=version, request_id=rid)
            else:
                rec.failed("promotion", f"two approvals did not move {model}@{alias}: {last}")
        except (Refused, OSError, KeyError) as e:
            rec.failed("promotion", e)


def run(state_path, seconds, acked_path):
    with open(state_path, encoding="utf-8") as f:
        state = json.load(f)
    rec = Recorder(acked_path)
    deadline = time.time() + seconds
    threads = [threading.Thread(target=mlflow_writer, args=(n, state["tracking_experiment"], deadline, rec))
               for n in range(MLFLOW_CLIENTS)]
    threads += [threading.Thread(target=ab_writer, args=(n, deadline, rec)) for n in range(AB_CLIENTS)]
    threads += [threading.Thread(target=promotion_writer, args=(n, m, deadline, rec))
                for n, m in enumerate(state["models"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for at, kind, error in rec.failures:
        print(f"{time.strftime('%H:%M:%S', time.localtime(at))} {kind} client saw: {error}")
    print(f"MLflow, A/B and promotion writers: {len(rec.failures)} failed calls seen by the clients")


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        setup(sys.argv[2])
    else:
        run(sys.argv[2], float(sys.argv[3]), sys.argv[4])
