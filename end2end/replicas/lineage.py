"""OpenLineage writers for `make replicas`: the official openlineage-python client, as a
scheduler emits it (START, then COMPLETE with inputs and outputs), through the balancer.

    lineage.py SECONDS ACKED

Each run whose COMPLETE event the client sent without an error (after the client's own
retries) is appended to ACKED as {"kind": "lineage", "run_id": ...}.
"""

import json
import os
import sys
import threading
import time
from datetime import datetime, timezone

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport
from openlineage.client.uuid import generate_new_uuid

URL = os.environ["GATEHOUSE_URL"]
TOKEN = json.loads(os.environ["TOKENS"])["scientist"]
CLIENTS = int(os.environ.get("LINEAGE_CLIENTS", "8"))
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"

seconds, acked_path = float(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
acked = open(acked_path, "a", encoding="utf-8")
failures = []


def writer(n, deadline):
    client = OpenLineageClient(transport=HttpTransport(HttpConfig(url=URL, auth=ApiKeyTokenProvider({"apiKey": TOKEN}))))
    job = Job(namespace="replicas", name=f"nightly_features_{n}")
    i = 0
    while time.time() < deadline:
        i += 1
        run = Run(runId=str(generate_new_uuid()))
        inputs = [InputDataset("postgres://warehouse:5432", f"public.events_{i % 20}")]
        outputs = [OutputDataset("s3://features", f"daily/{n}/{i % 10}")]
        try:
            now = datetime.now(timezone.utc).isoformat()
            client.emit(RunEvent(eventType=RunState.START, eventTime=now, run=run, job=job,
                                 producer=PRODUCER, inputs=inputs))
            client.emit(RunEvent(eventType=RunState.COMPLETE, eventTime=now, run=run, job=job,
                                 producer=PRODUCER, inputs=inputs, outputs=outputs))
            with lock:
                acked.write(json.dumps({"kind": "lineage", "run_id": run.runId}) + "\n")
                acked.flush()
        except Exception as e:  # noqa: BLE001 - what the client raised after its retries
            with lock:
                failures.append(f"{time.strftime('%H:%M:%S')} lineage client saw: {str(e)[:300]}")
            time.sleep(0.1)


deadline = time.time() + seconds
threads = [threading.Thread(target=writer, args=(n, deadline)) for n in range(CLIENTS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for f in failures:
    print(f)
print(f"OpenLineage writers: {len(failures)} failed emits seen by the client")
