"""Real-client test: the official `mlflow` package logs to Gatehouse and reads it back.

Run by `make test` (stage `mlflow-client`) against a release server on a throwaway database,
with MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN set. Exits non-zero on the first mismatch.
"""
import math
import os
import sys
import uuid

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

checks = 0


def check(cond, what):
    global checks
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        print(f"{checks} passed, 1 failed")
        sys.exit(1)
    checks += 1


def main():
    exp_name = f"client-roundtrip-{uuid.uuid4().hex[:8]}"
    exp = mlflow.set_experiment(exp_name)
    check(exp.name == exp_name, "set_experiment creates the experiment")

    df = pd.DataFrame({"age": [31, 45, 27], "income": [52_000.0, 81_000.0, 38_500.0], "default": [0, 1, 0]})
    dataset = mlflow.data.from_pandas(df, source="s3://bank/credit/train.parquet", name="credit-train", targets="default")

    logged = {}
    for i, lr in enumerate(["0.1", "0.01", "0.001"]):
        with mlflow.start_run(run_name=f"lr-{lr}") as run:
            params = {"lr": lr, "depth": str(4 + i), "optimizer": "adam"}
            mlflow.log_params(params)
            mlflow.log_param("seed", "42")
            history = [(step, 1.0 / (step + 1 + i)) for step in range(5)]
            for step, value in history:
                mlflow.log_metric("loss", value, step=step)
            mlflow.log_metrics({"auc": 0.7 + 0.05 * i, "f1": 0.5 + 0.1 * i}, step=4)
            mlflow.log_metric("weird", float("nan"))
            mlflow.set_tags({"team": "credit", "index": str(i)})
            mlflow.set_tag("stage", "candidate")
            mlflow.log_input(dataset, context="training")
            logged[run.info.run_id] = {"params": {**params, "seed": "42"}, "history": history, "auc": 0.7 + 0.05 * i, "i": i}

    client = MlflowClient()
    for run_id, want in logged.items():
        run = client.get_run(run_id)
        check(run.info.status == "FINISHED", f"run {run_id} finished")
        check(run.data.params == want["params"], f"params of {run_id}: {run.data.params}")
        check(run.data.tags.get("team") == "credit" and run.data.tags.get("stage") == "candidate", "tags")
        check(abs(run.data.metrics["auc"] - want["auc"]) < 1e-12, "latest auc")
        check(math.isnan(run.data.metrics["weird"]), "NaN metric survives")
        hist = client.get_metric_history(run_id, "loss")
        got = [(m.step, m.value) for m in sorted(hist, key=lambda m: m.step)]
        check(got == want["history"], f"loss history of {run_id}: {got}")
        inputs = run.inputs.dataset_inputs
        check(len(inputs) == 1 and inputs[0].dataset.name == "credit-train", "dataset input")
        check(inputs[0].dataset.digest == dataset.digest, "dataset digest")
        check(any(t.key == "mlflow.data.context" and t.value == "training" for t in inputs[0].tags), "input context tag")

    found = mlflow.search_runs(
        experiment_names=[exp_name],
        filter_string="params.optimizer = 'adam' AND metrics.auc > 0.72",
        order_by=["metrics.auc DESC"],
    )
    check(len(found) == 2, f"filtered search returns 2 runs, got {len(found)}")
    check(list(found["params.lr"]) == ["0.001", "0.01"], f"ordered by auc desc: {list(found['params.lr'])}")

    every = client.search_runs([exp.experiment_id], order_by=["params.depth ASC"], max_results=2)
    check(len(every) == 2 and every.token, "paged search has a next page token")
    rest = client.search_runs([exp.experiment_id], order_by=["params.depth ASC"], max_results=2, page_token=every.token)
    depths = [r.data.params["depth"] for r in list(every) + list(rest)]
    check(depths == ["4", "5", "6"], f"pages in order: {depths}")

    try:
        with mlflow.start_run(run_id=list(logged)[0]):
            mlflow.log_param("lr", "999")
        check(False, "changing a param must fail")
    except mlflow.exceptions.MlflowException as e:
        check(e.error_code == "INVALID_PARAMETER_VALUE", f"param change error code {e.error_code}")

    # Model registry: register a version from a logged run, alias it, read it back by alias.
    run_id = list(logged)[0]
    model_name = f"credit-default-{uuid.uuid4().hex[:8]}"
    mv = mlflow.register_model(f"s3://models/{model_name}/1", model_name)
    check(mv.version == "1" and mv.status == "READY", f"register_model: {mv.version} {mv.status}")
    try:
        mlflow.register_model(f"s3://models/{model_name}/1b", model_name)
        check(True, "register_model on an existing model adds a version")
    except mlflow.exceptions.MlflowException as e:
        check(False, f"second register_model failed: {e}")
    created = client.create_model_version(model_name, f"s3://models/{model_name}/3", run_id=run_id)
    check(created.version == "3" and created.run_id == run_id, f"create_model_version linked to run: {created.run_id}")
    other = f"{model_name}-shadow"
    client.create_registered_model(other, description="shadow copy")
    check(client.get_registered_model(other).description == "shadow copy", "create_registered_model")
    got = client.get_model_version(model_name, "3")
    check(got.source == f"s3://models/{model_name}/3", f"get_model_version source {got.source}")
    found = client.search_model_versions(f"name = '{model_name}'")
    check(sorted(v.version for v in found) == ["1", "2", "3"], f"search_model_versions: {[v.version for v in found]}")
    client.set_registered_model_alias(model_name, "champion", "3")
    by_alias = client.get_model_version_by_alias(model_name, "champion")
    check(by_alias.version == "3" and "champion" in by_alias.aliases, f"get_model_version_by_alias: {by_alias.version}")
    try:
        client.set_registered_model_alias(model_name, "production", "3")
        check(False, "setting production directly must be refused")
    except mlflow.exceptions.MlflowException as e:
        check(e.error_code == "PERMISSION_DENIED", f"production refused with {e.error_code}")
        check("promotion" in e.message, f"the refusal says how to request a promotion: {e.message}")

    basic_authentication(exp_name)
    print(f"{checks} passed, 0 failed")


def basic_authentication(exp_name):
    """MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (an API token as the password), as
    MLflow's own auth expects them: the client sends Basic authentication instead of the token."""
    token = os.environ.pop("MLFLOW_TRACKING_TOKEN")
    os.environ["MLFLOW_TRACKING_USERNAME"] = "mlflow-ci"
    os.environ["MLFLOW_TRACKING_PASSWORD"] = token
    try:
        client = MlflowClient()
        exp = client.get_experiment_by_name(exp_name)
        check(exp is not None, "Basic authentication reads the experiment")
        run = client.create_run(exp.experiment_id, run_name="basic-auth")
        client.log_metric(run.info.run_id, "auc", 0.5)
        got = client.get_run(run.info.run_id)
        check(got.data.metrics == {"auc": 0.5}, f"Basic authentication writes: {got.data.metrics}")
        os.environ["MLFLOW_TRACKING_USERNAME"] = "someone-else"
        try:
            MlflowClient().get_run(run.info.run_id)
            check(False, "another username with the token must be refused")
        except mlflow.exceptions.MlflowException as e:
            check("does not belong" in e.message, f"wrong username refused: {e.message}")
    finally:
        os.environ.pop("MLFLOW_TRACKING_USERNAME", None)
        os.environ.pop("MLFLOW_TRACKING_PASSWORD", None)
        os.environ["MLFLOW_TRACKING_TOKEN"] = token


if __name__ == "__main__":
    main()
