"""Real-client test of artifacts and models: the official `mlflow` package stores files and a
scikit-learn model in Gatehouse, a promotion to `production` is approved by two reviewers
through the REST API, and a fresh Python process loads `models:/NAME@production` and gets the
same predictions as the model that was logged.

Run by `make test` (stage `mlflow-client`) against a release server on a throwaway database.
Environment: MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN (a scientist's token), GATEHOUSE_BIN
(the server binary, for `model-digest`), REVIEWERS ("name:password,name:password").
Everything is made here: no downloads at run time.
"""
import filecmp
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import uuid

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import requests  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

URI = os.environ["MLFLOW_TRACKING_URI"]
TOKEN = os.environ["MLFLOW_TRACKING_TOKEN"]
checks = 0


def check(cond, what):
    global checks
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        print(f"{checks} passed, 1 failed")
        sys.exit(1)
    checks += 1


def tree(root):
    """Relative path -> bytes of every file under root."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            out[os.path.relpath(p, root).replace(os.sep, "/")] = open(p, "rb").read()
    return out


def digest_of(root):
    """The model digest as the README documents it: SHA-256 over the sorted manifest (less the
    `registered_model_meta` file the client writes beside a model it downloads)."""
    lines = []
    files = {p: d for p, d in tree(root).items() if p != "registered_model_meta"}
    for path, data in sorted(files.items(), key=lambda kv: kv[0].encode()):
        lines.append(f"{path}\t{len(data)}\t{hashlib.sha256(data).hexdigest()}\n")
    return "sha256:" + hashlib.sha256("".join(lines).encode()).hexdigest()


def artifacts_of_a_run(client, work):
    rng = np.random.default_rng(1)
    with mlflow.start_run(run_name="artifacts") as run:
        rid = run.info.run_id
        notes = os.path.join(work, "notes.txt")
        with open(notes, "w") as f:
            f.write("what this run is about\n")
        mlflow.log_artifact(notes)
        folder = os.path.join(work, "report")
        os.makedirs(os.path.join(folder, "tables"))
        with open(os.path.join(folder, "summary.json"), "w") as f:
            json.dump({"rows": 300}, f)
        with open(os.path.join(folder, "tables", "scores.csv"), "w") as f:
            f.write("id,score\n1,0.5\n2,0.75\n")
        blob = rng.integers(0, 256, size=3_000_000, dtype=np.uint8).tobytes()
        with open(os.path.join(folder, "tables", "blob.bin"), "wb") as f:
            f.write(blob)
        mlflow.log_artifacts(folder, artifact_path="report")
        mlflow.log_text("plain text\n", "text/hello.txt")
        mlflow.log_dict({"threshold": 0.5, "features": ["a", "b"]}, "config.json")
        fig, ax = plt.subplots()
        ax.plot([0, 1, 2], [1, 0, 1])
        mlflow.log_figure(fig, "plots/curve.png")
        plt.close(fig)
        mlflow.log_image(Image.new("RGB", (8, 8), (200, 10, 10)), "plots/red.png")

    root = {(f.path, f.is_dir) for f in client.list_artifacts(rid)}
    check(
        {("notes.txt", False), ("report", True), ("text", True), ("config.json", False), ("plots", True)} <= root,
        f"root listing: {root}",
    )
    sub = {(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(rid, "report/tables")}
    check(("report/tables/blob.bin", False, 3_000_000) in sub, f"sub-folder listing with sizes: {sub}")

    dl = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="report", dst_path=os.path.join(work, "dl"))
    check(filecmp.cmp(os.path.join(dl, "tables", "blob.bin"), os.path.join(folder, "tables", "blob.bin"), shallow=False),
          "a folder downloads byte for byte")
    check(tree(dl) == tree(folder), "the folder's every file is there")
    one = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="notes.txt", dst_path=os.path.join(work, "dl1"))
    check(open(one).read() == "what this run is about\n", "a file downloads byte for byte")
    check(mlflow.artifacts.load_dict(f"runs:/{rid}/config.json") == {"threshold": 0.5, "features": ["a", "b"]}, "log_dict")
    check(mlflow.artifacts.load_text(f"runs:/{rid}/text/hello.txt") == "plain text\n", "log_text")
    img = mlflow.artifacts.load_image(f"runs:/{rid}/plots/red.png")
    check(img.size == (8, 8) and img.getpixel((0, 0))[:3] == (200, 10, 10), "log_image")
    check(any(f.path == "plots/curve.png" and f.file_size > 1000 for f in client.list_artifacts(rid, "plots")), "log_figure")


def train():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(400, 4))
    y = (X[:, 0] - 0.5 * X[:, 1] + 0.1 * rng.normal(size=400) > 0).astype(int)
    return X, y


def autolog(X, y):
    mlflow.sklearn.autolog(log_input_examples=False, log_model_signatures=True, silent=True)
    with mlflow.start_run(run_name="autolog") as run:
        LogisticRegression(max_iter=200).fit(X, y)
    mlflow.sklearn.autolog(disable=True)
    models = mlflow.search_logged_models(
        experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{run.info.run_id}'", output_format="list"
    )
    check(len(models) == 1 and models[0].status.to_proto() == 2, f"autolog logged one READY model: {models}")
    loaded = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    check(loaded.predict(X[:5]).shape == (5,), "the autologged model loads from runs:/RUN/model")


def main():
    name = f"credit-e2e-{uuid.uuid4().hex[:6]}"
    exp = mlflow.set_experiment(f"artifacts-{uuid.uuid4().hex[:8]}")
    client = MlflowClient()
    work = tempfile.mkdtemp()

    artifacts_of_a_run(client, work)
    X, y = train()
    autolog(X, y)

    from mlflow.data import from_numpy

    with mlflow.start_run(run_name="train") as run:
        clf = LogisticRegression(max_iter=200).fit(X, y)
        train_file = os.path.join(work, "credit-train.npy")
        np.save(train_file, X)
        mlflow.log_input(from_numpy(X, targets=y, source=train_file, name="credit-train"), context="training")
        mlflow.log_metric("auc", 0.93)
        info = mlflow.sklearn.log_model(clf, name="model", registered_model_name=name, input_example=X[:3])
        rid = run.info.run_id
    expected = clf.predict_proba(X[:20]).tolist()

    lm = mlflow.get_logged_model(info.model_id)
    check(lm.status.to_proto() == 2 and lm.source_run_id == rid, f"get_logged_model: {lm.status} {lm.source_run_id}")
    found = mlflow.search_logged_models(experiment_ids=[exp.experiment_id], filter_string="name = 'model'", output_format="list")
    check(info.model_id in {m.model_id for m in found}, "search_logged_models finds it by name")
    v2 = mlflow.register_model(f"runs:/{rid}/model", name)
    check(v2.version == "2", f"register_model makes version 2: {v2.version}")

    for uri in [f"models:/{name}/1", f"runs:/{rid}/model", f"models:/{info.model_id}"]:
        got = mlflow.pyfunc.load_model(uri).predict(X[:20])
        check(np.array_equal(got, clf.predict(X[:20])), f"pyfunc.load_model({uri})")
        got = mlflow.sklearn.load_model(uri).predict_proba(X[:20]).tolist()
        check(got == expected, f"sklearn.load_model({uri})")

    # The files behind a finalized model are frozen: the proxy refuses to change them.
    headers = {"Authorization": f"Bearer {TOKEN}"}
    art = f"{URI}/api/2.0/mlflow-artifacts/artifacts/{exp.experiment_id}/models/{info.model_id}/artifacts/MLmodel"
    r = requests.put(art, data=b"swapped", headers=headers)
    check(r.status_code == 409 and r.json()["error_code"] == "INVALID_STATE", f"a finalized model is frozen: {r.status_code}")

    # Promotion to production through the REST API: the scientist asks, two reviewers
    # (signed in with their passwords) waive the checks that need other evidence and approve.
    r = requests.post(f"{URI}/api/v1/promotions", headers=headers,
                      json={"model": name, "version": 1, "alias": "production", "justification": "first release of the e2e model"})
    check(r.status_code == 200, f"request promotion: {r.status_code} {r.text}")
    req_id = r.json()["request"]["request"]["request_id"]
    reviewers = [pair.split(":", 1) for pair in os.environ["REVIEWERS"].split(",")]
    sessions = []
    for user, password in reviewers:
        s = requests.Session()
        s.headers["Origin"] = URI
        r = s.post(f"{URI}/api/sign_in", data={"username": user, "password": password}, allow_redirects=False)
        check(r.status_code < 400, f"{user} signs in: {r.status_code}")
        sessions.append(s)
    view = sessions[0].get(f"{URI}/api/v1/promotions/{req_id}").json()["request"]
    by_id = {c["id"]: c for c in view["checks"]}
    check(by_id["artifact"]["status"] == "pass", f"the artifact check passes: {by_id.get('artifact')}")
    check(info.model_id in by_id["artifact"]["detail"], "the artifact check names the model")
    for c in view["checks"]:
        if c["status"] not in ("pass", "waived"):
            r = sessions[0].post(f"{URI}/api/v1/promotions/{req_id}/waive",
                                 json={"check": c["id"], "reason": "not part of the client compatibility test"})
            check(r.status_code == 200, f"waive {c['id']}: {r.status_code} {r.text}")
    for s in sessions:
        r = s.post(f"{URI}/api/v1/promotions/{req_id}/approve", json={"comment": "approved in the e2e test"})
        check(r.status_code == 200, f"approve: {r.status_code} {r.text}")
    check(r.json()["outcome"].get("alias_moved") is True, f"the alias moved: {r.json()['outcome']}")

    alias = requests.get(f"{URI}/api/v1/models/{name}/aliases/production", headers=headers).json()
    check(alias["version"] == 1 and alias["digest"].startswith("sha256:"), f"the alias API answers the digest: {alias}")

    # What a deployment does: a fresh process loads models:/NAME@production.
    probe = os.path.join(work, "probe.npy")
    np.save(probe, X[:20])
    code = (
        "import sys, json, numpy as np, mlflow\n"
        f"X = np.load({probe!r})\n"
        f"m = mlflow.sklearn.load_model('models:/{name}@production')\n"
        "print(json.dumps(m.predict_proba(X).tolist()))\n"
        f"p = mlflow.pyfunc.load_model('models:/{name}@production')\n"
        "print(json.dumps(p.predict(X).tolist()))\n"
    )
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, env=os.environ.copy())
    check(out.returncode == 0, f"fresh process: {out.stderr[-2000:]}")
    lines = out.stdout.strip().splitlines()
    check(json.loads(lines[-2]) == expected, "models:/NAME@production predicts as the logged model")
    check(json.loads(lines[-1]) == clf.predict(X[:20]).tolist(), "pyfunc from production predicts as the logged model")

    # The digest the alias answers is the digest of what the client downloads.
    dl = mlflow.artifacts.download_artifacts(f"models:/{name}@production", dst_path=os.path.join(work, "prod"))
    check(digest_of(dl) == alias["digest"], "the documented manifest recomputes the digest")
    out = subprocess.run([os.environ["GATEHOUSE_BIN"], "model-digest", dl], capture_output=True, text=True)
    check(out.stdout.strip() == alias["digest"], f"server model-digest agrees: {out.stdout} {out.stderr}")
    shell = (
        "find . -type f ! -path ./registered_model_meta | sed 's|^\\./||' | LC_ALL=C sort | "
        "while IFS= read -r p; do printf '%s\\t%s\\t%s\\n' \"$p\" \"$(stat -c %s \"$p\")\" "
        "\"$(sha256sum \"$p\" | cut -d' ' -f1)\"; done | sha256sum"
    )
    out = subprocess.run(["bash", "-c", shell], cwd=dl, capture_output=True, text=True)
    check("sha256:" + out.stdout.split()[0] == alias["digest"], f"the README's shell line agrees: {out.stdout} {out.stderr}")

    print(f"{checks} passed, 0 failed")


if __name__ == "__main__":
    main()
