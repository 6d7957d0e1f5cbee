"""Calls Gatehouse through a client generated from /api/openapi.json: typed requests in, typed
answers (and typed refusals) out. Exits non-zero on the first mismatch."""

import os
import sys

from gatehouse_client import AuthenticatedClient
from gatehouse_client.api.ab_tests import (
    get_api_v1_experiments_id,
    post_api_v1_ab_analyze,
    post_api_v1_experiments,
)
from gatehouse_client.api.audit_trail import get_api_v1_audit
from gatehouse_client.api.session import get_api_v1_me
from gatehouse_client.models import (
    Analysis,
    AnalysisRequest,
    ConflictError,
    CreatedTest,
    DataRow,
    ExperimentDef,
    Decision,
    ForbiddenError,
    Me,
    MetricDef,
    MetricKind,
    MetricSpec,
    Role,
    Status,
    TestDetail,
    ValidationError,
    VariantDef,
    VariantSpec,
)


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}")
        sys.exit(1)
    print(f"ok: {what}")


client = AuthenticatedClient(
    base_url=os.environ["GATEHOUSE_URL"], token=os.environ["GATEHOUSE_TOKEN"]
)

# 1. Who am I: a typed answer.
me = get_api_v1_me.sync(client=client)
check(isinstance(me, Me), "GET /api/v1/me answers a Me")
check(me.username == "openapi-client" and me.via == "token", "as the token's user")
check(Role.SCIENTIST in me.roles, "with the scientist role")

# 2. A stateless A/B analysis: a typed request body and a typed analysis back.
request = AnalysisRequest(
    control="control",
    variants=[VariantSpec(name="control", weight=1), VariantSpec(name="treatment", weight=1)],
    metrics=[
        MetricSpec(
            name="checkout",
            type_=MetricKind.BINOMIAL,
            data=[
                DataRow(variant="control", units=10000, conversions=1000),
                DataRow(variant="treatment", units=10000, conversions=1150),
            ],
        )
    ],
)
analysis = post_api_v1_ab_analyze.sync(client=client, body=request)
check(isinstance(analysis, Analysis), "POST /api/v1/ab/analyze answers an Analysis")
check(not analysis.srm.detected, "no sample-ratio mismatch on a 10,000/10,000 split")
lift = analysis.metrics[0].comparisons[0]
check(abs(lift.rel_lift - 0.15) < 1e-9, f"a 15% lift (got {lift.rel_lift})")
check(lift.p_value < 0.01 and lift.significant, f"significant (p = {lift.p_value:.2e})")
check(analysis.verdict.decision == Decision.SHIP, f"verdict ship (got {analysis.verdict.decision})")

# 3. Defining a test: 201, then the typed refusals the document lists for the operation.
definition = ExperimentDef(
    name="generated client test",
    variants=[VariantDef(name="control", weight=50), VariantDef(name="challenger", weight=50)],
    metrics=[MetricDef(name="checkout", type_=MetricKind.BINOMIAL)],
)
created = post_api_v1_experiments.sync_detailed(client=client, body=definition)
check(created.status_code == 201, f"POST /api/v1/experiments is 201 (got {created.status_code})")
check(isinstance(created.parsed, CreatedTest), "and answers a CreatedTest")
check(created.parsed.status == Status.DRAFT, f"a draft (got {created.parsed.status})")
shown = get_api_v1_experiments_id.sync(str(created.parsed.id), client=client)
check(isinstance(shown, TestDetail), "GET /api/v1/experiments/{id} answers a TestDetail")
check(shown.definition.name == "generated client test", "with the definition as sent")
check(shown.analysis is None and shown.analysis_unavailable, "and why there is no analysis yet")
again = post_api_v1_experiments.sync(client=client, body=definition)
check(isinstance(again, ConflictError), "the same name again is a ConflictError")
bad = ExperimentDef(
    name="bad weight",
    variants=[VariantDef(name="control", weight=50), VariantDef(name="challenger", weight=-2)],
    metrics=[MetricDef(name="checkout", type_=MetricKind.BINOMIAL)],
)
refused = post_api_v1_experiments.sync(client=client, body=bad)
check(
    isinstance(refused, ValidationError) and refused.field == "variants[1].weight",
    f"a negative weight is a ValidationError naming variants[1].weight (got {refused})",
)

# 4. The audit trail is not a scientist's: a typed 403.
denied = get_api_v1_audit.sync(client=client)
check(isinstance(denied, ForbiddenError), "GET /api/v1/audit as a scientist is a ForbiddenError")
print("generated client: all checks passed")
