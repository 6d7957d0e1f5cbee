"""The security review's three attacks, against a release server, so they stay fixed.

    security.py BASE PID SCIENTIST_TOKEN DB_PATH

1. A decompression bomb (256 MiB of one row in ~250 KB of gzip) to the fairness analysis:
   413 naming the limit, a short answer, and the server's peak memory barely moves.
2. Guessing a reviewer's password from one address (60 tries) does not keep the reviewer, at
   another address, from signing in; the guesses add no audit entry per attempt.
3. An admin cannot hold a token that acts as a reviewer: the server function issues the
   admin's own, REST refuses a user name.
The server must run with --client-ip-header X-Forwarded-For; users sec-admin (admin) and
sec-reviewer (reviewer) exist with the password 'client-test password'.
"""

import gzip
import json
import sqlite3
import sys
import urllib.error
import urllib.request

base, pid, sci_token, db_path = sys.argv[1:5]
PASSWORD = "client-test password"
failed = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failed.append(what)


def peak_rss_kb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def call(method, path, body=None, headers=None):
    req = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


# 1. The bomb.
bomb = gzip.compress(b"A" * (256 << 20), compresslevel=9)
before = peak_rss_kb()
status, body, _ = call(
    "POST",
    "/api/v1/fairness/analyze?label=label&prediction=pred&attributes=g",
    bomb,
    {"Authorization": f"Bearer {sci_token}", "Content-Type": "text/csv", "Content-Encoding": "gzip"},
)
grown = peak_rss_kb() - before
check(status == 413, f"bomb of {len(bomb)} bytes answered {status} (want 413)")
check(len(body) < 500 and b"AAAAAAAAAAAAAAAA" not in body, f"bomb answer is short ({len(body)} bytes) and echoes no input")
check(grown < 64 * 1024, f"peak memory grew by {grown // 1024} MiB during the bomb (want < 64 MiB)")


# 2. Guessing from one address does not lock the reviewer out at another.
def sign_in(user, password, addr):
    form = f"username={user}&password={password.replace(' ', '+')}".encode()
    return call("POST", "/api/sign_in", form, {
        "Content-Type": "application/x-www-form-urlencoded",
        "Origin": base,
        "X-Forwarded-For": addr,
    })


def audit_rows(action_like):
    with sqlite3.connect(db_path) as db:
        return db.execute("SELECT count(*) FROM audit_log WHERE action LIKE ?", (action_like,)).fetchone()[0]


before = audit_rows("auth.sign_in_fail%")
statuses = [sign_in("sec-reviewer", "guess guess guess", "203.0.113.9")[0] for _ in range(60)]
check(statuses.count(429) >= 40, f"60 guesses: {statuses.count(401)} checked, {statuses.count(429)} told to wait")
status, _, headers = sign_in("sec-reviewer", PASSWORD, "198.51.100.7")
check(status == 200 and "gatehouse_session=" in (headers.get("set-cookie") or ""),
      f"the reviewer signs in from another address during the guessing ({status})")
check(audit_rows("auth.sign_in_fail%") == before, "no audit entry per failed attempt")

# 3. No token that acts as someone else.
status, _, headers = sign_in("sec-admin", PASSWORD, "198.51.100.8")
cookie = (headers.get("set-cookie") or "").split(";")[0]
form = b"username=sec-reviewer&name=impersonation"
status, body, _ = call("POST", "/api/create_token", form, {
    "Content-Type": "application/x-www-form-urlencoded", "Origin": base, "Cookie": cookie,
    "Accept": "application/json"})
token = json.loads(body).get("token", "") if status == 200 else ""
status, body, _ = call("GET", "/api/v1/me", None, {"Authorization": f"Bearer {token}"})
me = json.loads(body).get("username") if status == 200 else None
check(me == "sec-admin", f"a token the admin asks for 'sec-reviewer' acts as {me}")
status, _, _ = call("POST", "/api/v1/tokens", json.dumps({"name": "imp2", "username": "sec-reviewer"}).encode(),
                    {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
check(status == 400, f"REST refuses a token for another user ({status})")

sys.exit(1 if failed else 0)
