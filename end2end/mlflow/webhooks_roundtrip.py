"""MLflow's own webhook client against Gatehouse: an admin's token (ADMIN_TOKEN) creates, lists,
reads, updates, tests and deletes a webhook with MlflowClient, and a receiver started here gets a
model version's registration signed as MLflow signs it. Exits non-zero on the first mismatch."""

import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import mlflow
from mlflow import MlflowClient

checks = 0
received = []
SECRET = "webhook-secret-for-the-client-test"


def check(cond, what):
    global checks
    if not cond:
        print(f"FAIL: {what}")
        sys.exit(1)
    checks += 1


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        # Header names are case-insensitive: keep them lower-cased.
        received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def verified(headers, body):
    """MLflow's documented check: v1,base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}"))."""
    signed = f"{headers['x-mlflow-delivery-id']}.{headers['x-mlflow-timestamp']}.{body}"
    digest = hmac.new(SECRET.encode(), signed.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(headers["x-mlflow-signature"], "v1," + base64.b64encode(digest).decode())


def wait_for(n):
    for _ in range(300):
        if len(received) >= n:
            return
        time.sleep(0.1)
    check(False, f"the receiver got {len(received)} requests, not {n}")


def main():
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    scientist_token = os.environ["MLFLOW_TRACKING_TOKEN"]

    os.environ["MLFLOW_TRACKING_TOKEN"] = os.environ["ADMIN_TOKEN"]
    admin = MlflowClient()
    hook = admin.create_webhook(
        name="registry-ci",
        url=url,
        events=["model_version.created", "model_version_alias.created"],
        description="CI for new versions",
        secret=SECRET,
    )
    check(hook.webhook_id.startswith("wh-"), f"create_webhook: {hook.webhook_id}")
    check(str(hook.status) == "ACTIVE", f"a new webhook is active: {hook.status}")
    check(sorted(str(e) for e in hook.events) == ["model_version.created", "model_version_alias.created"],
          f"events: {hook.events}")
    check(admin.get_webhook(hook.webhook_id).url == url, "get_webhook")
    check([w.webhook_id for w in admin.list_webhooks()] == [hook.webhook_id], "list_webhooks")
    changed = admin.update_webhook(hook.webhook_id, description="CI and CD")
    check(changed.description == "CI and CD" and changed.name == "registry-ci", "update_webhook")
    result = admin.test_webhook(hook.webhook_id, event="model_version_alias.created")
    check(result.success and result.response_status == 200, f"test_webhook: {result}")
    wait_for(1)
    check(verified(*received[0]), "the test delivery is signed")
    check(json.loads(received[0][1])["data"]["alias"] == "example_alias", "the test carries an example")
    try:
        admin.create_webhook(name="inside", url="http://10.0.0.7/hook", events=["model_version.created"])
        check(False, "a private address must be refused")
    except mlflow.exceptions.MlflowException as e:
        check(e.error_code == "INVALID_PARAMETER_VALUE" and "private" in e.message, f"refused: {e.message}")

    os.environ["MLFLOW_TRACKING_TOKEN"] = scientist_token
    scientist = MlflowClient()
    try:
        scientist.list_webhooks()
        check(False, "scientists do not manage webhooks")
    except mlflow.exceptions.MlflowException as e:
        check(e.error_code == "PERMISSION_DENIED", f"scientist refused with {e.error_code}")
    scientist.create_registered_model("webhook-model")
    scientist.create_model_version("webhook-model", "s3://models/webhook-model/1")
    wait_for(2)
    headers, body = received[1]
    check(verified(headers, body), "the event is signed as MLflow signs it")
    event = json.loads(body)
    check((event["entity"], event["action"]) == ("model_version", "created"), f"event: {event}")
    check(event["data"]["name"] == "webhook-model" and event["data"]["version"] == "1", f"data: {event['data']}")
    check(event["data"]["source"] == "s3://models/webhook-model/1", "the version's source")

    os.environ["MLFLOW_TRACKING_TOKEN"] = os.environ["ADMIN_TOKEN"]
    MlflowClient().delete_webhook(hook.webhook_id)
    check(list(MlflowClient().list_webhooks()) == [], "delete_webhook")
    os.environ["MLFLOW_TRACKING_TOKEN"] = scientist_token
    print(f"{checks} passed, 0 failed")


if __name__ == "__main__":
    main()
