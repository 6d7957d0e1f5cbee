"""The official openlineage-python client (HTTP transport, api_key auth) against Gatehouse.

Emits a multi-job pipeline (plain and gzip bodies, a failed run with a parent, a DatasetEvent,
a JobEvent and one event sent twice), then reads the graph back through the lineage API and
checks that its edges are exactly the expected ones. Exits non-zero on the first mismatch.
"""

import json
import os
import sys
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import (
    DatasetEvent,
    InputDataset,
    Job,
    JobEvent,
    OutputDataset,
    Run,
    RunEvent,
    RunState,
    StaticDataset,
)
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    error_message_run,
    parent_run,
    schema_dataset,
)
from openlineage.client.transport.http import (
    ApiKeyTokenProvider,
    HttpCompression,
    HttpConfig,
    HttpTransport,
)
from openlineage.client.uuid import generate_new_uuid

URL = os.environ["GATEHOUSE_URL"]
TOKEN = os.environ["GATEHOUSE_TOKEN"]
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
DB = "postgres://orders-db.internal:5432"
WH = "snowflake://acme.eu-central-1"

failures = []
checks = 0


def check(name, ok, detail=""):
    global checks
    checks += 1
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    if not ok:
        failures.append(name)


def client(gzip=False):
    config = HttpConfig(
        url=URL,
        auth=ApiKeyTokenProvider({"apiKey": TOKEN}),
        compression=HttpCompression.GZIP if gzip else None,
    )
    return OpenLineageClient(transport=HttpTransport(config))


def schema(*fields):
    return {"schema": schema_dataset.SchemaDatasetFacet(fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in fields])}


t0 = datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc)


def at(minutes):
    return (t0 + timedelta(minutes=minutes)).isoformat()


plain, gz = client(), client(gzip=True)
orders = InputDataset(DB, "public.orders", facets=schema(("order_id", "BIGINT"), ("customer_id", "BIGINT"), ("total", "NUMERIC")))
raw_orders_out = OutputDataset(WH, "raw.orders", facets=schema(("order_id", "BIGINT"), ("customer_id", "BIGINT"), ("total", "NUMERIC")))
raw_orders_in = InputDataset(WH, "raw.orders")
customers = InputDataset(WH, "dim.customers")

# 1. load_orders: START then COMPLETE; the COMPLETE is sent twice.
load = Job(namespace="airflow://acme", name="ingest.load_orders")
run1 = Run(runId=str(generate_new_uuid()))
plain.emit(RunEvent(eventType=RunState.START, eventTime=at(0), run=run1, job=load, producer=PRODUCER, inputs=[orders]))
done = RunEvent(eventType=RunState.COMPLETE, eventTime=at(4), run=run1, job=load, producer=PRODUCER, inputs=[orders], outputs=[raw_orders_out])
plain.emit(done)
plain.emit(done)

# 2. daily_revenue, gzip-compressed, with column lineage.
revenue = Job(namespace="airflow://acme", name="transform.daily_revenue")
run2 = Run(runId=str(generate_new_uuid()))
lineage = column_lineage_dataset.ColumnLineageDatasetFacet(
    fields={
        "revenue": column_lineage_dataset.Fields(
            inputFields=[column_lineage_dataset.InputField(namespace=WH, name="raw.orders", field="total")],
            transformationDescription="sum",
            transformationType="AGGREGATION",
        )
    }
)
revenue_out = OutputDataset(WH, "mart.daily_revenue", facets={**schema(("day", "DATE"), ("revenue", "NUMERIC")), "columnLineage": lineage})
for state, minute in [(RunState.START, 10), (RunState.RUNNING, 12), (RunState.COMPLETE, 15)]:
    outputs = [revenue_out] if state == RunState.COMPLETE else []
    gz.emit(RunEvent(eventType=state, eventTime=at(minute), run=run2, job=revenue, producer=PRODUCER, inputs=[raw_orders_in], outputs=outputs))

# 3. customer_ltv fails, as a child of the nightly DAG run.
ltv = Job(namespace="airflow://acme", name="transform.customer_ltv")
parent = parent_run.ParentRunFacet(
    run=parent_run.Run(runId=str(generate_new_uuid())),
    job=parent_run.Job(namespace="airflow://acme", name="dag.nightly"),
)
error = error_message_run.ErrorMessageRunFacet(message="division by zero in ltv_months", programmingLanguage="python")
run3 = Run(runId=str(generate_new_uuid()), facets={"parent": parent})
plain.emit(RunEvent(eventType=RunState.START, eventTime=at(20), run=run3, job=ltv, producer=PRODUCER, inputs=[raw_orders_in, customers]))
plain.emit(RunEvent(eventType=RunState.FAIL, eventTime=at(21), run=Run(runId=run3.runId, facets={"parent": parent, "errorMessage": error}), job=ltv, producer=PRODUCER, inputs=[raw_orders_in, customers], outputs=[OutputDataset(WH, "mart.customer_ltv")]))

# 4. Static metadata: a DatasetEvent and a JobEvent.
plain.emit(DatasetEvent(eventTime=at(30), producer=PRODUCER, dataset=StaticDataset(WH, "dim.customers", facets=schema(("customer_id", "BIGINT"), ("segment", "TEXT")))))
plain.emit(JobEvent(eventTime=at(31), producer=PRODUCER, job=Job(namespace="airflow://acme", name="report.weekly"), inputs=[InputDataset(WH, "mart.daily_revenue")], outputs=[OutputDataset("s3://acme-reports", "weekly/revenue.csv")]))


def get(path, **query):
    req = urllib.request.Request(f"{URL}{path}?{urllib.parse.urlencode(query)}", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


graph = get("/api/v1/lineage", nodeId=f"dataset:{DB}:public.orders", depth=10)["graph"]
edges = sorted({(e["origin"], e["destination"]) for n in graph for e in n["outEdges"] + n["inEdges"]})
J = "job:airflow://acme:"
D = f"dataset:{WH}:"
expected = sorted(
    [
        (f"dataset:{DB}:public.orders", J + "ingest.load_orders"),
        (J + "ingest.load_orders", D + "raw.orders"),
        (D + "raw.orders", J + "transform.daily_revenue"),
        (J + "transform.daily_revenue", D + "mart.daily_revenue"),
        (D + "raw.orders", J + "transform.customer_ltv"),
        (J + "transform.customer_ltv", D + "mart.customer_ltv"),
        (D + "mart.daily_revenue", J + "report.weekly"),
        (J + "report.weekly", "dataset:s3://acme-reports:weekly/revenue.csv"),
    ]
)
# The walk goes downstream from the source, so dim.customers (upstream of customer_ltv only)
# is not part of it. customer_ltv has no completed run, so its graph is its latest attempt's.
check("lineage edges are exactly those emitted", edges == expected, f"\n got {edges}\n want {expected}")

nodes = {n["id"]: n for n in graph}
check("the failed run is the job's latest", nodes[J + "transform.customer_ltv"]["data"]["latestRun"]["state"] == "FAIL", nodes.get(J + "transform.customer_ltv"))
check("its error message is kept", nodes[J + "transform.customer_ltv"]["data"]["latestRun"]["errorMessage"] == "division by zero in ltv_months")
customers_node = get("/api/v1/lineage", nodeId=D + "dim.customers", depth=1)["graph"]
fields = next((n["data"]["fields"] for n in customers_node if n["id"] == D + "dim.customers"), [])
fields = [f["name"] for f in fields]
check("dim.customers feeds customer_ltv", any(e["destination"] == J + "transform.customer_ltv" for n in customers_node for e in n["outEdges"]))
check("the DatasetEvent's schema is stored", fields == ["customer_id", "segment"], fields)
check("gzip events arrive", nodes[J + "transform.daily_revenue"]["data"]["latestRun"]["state"] == "COMPLETE")
hits = get("/api/v1/search", q="revenue")["results"]
check("search finds the revenue mart and job", {h["nodeId"] for h in hits} >= {D + "mart.daily_revenue", J + "transform.daily_revenue"}, hits)
up = get("/api/v1/lineage", nodeId=D + "mart.daily_revenue", upstreamDepth=1, downstreamDepth=0)["graph"]
check("upstream depth 1 from the mart", sorted(n["id"] for n in up) == sorted([D + "mart.daily_revenue", J + "transform.daily_revenue"]), [n["id"] for n in up])

print(f"{checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
