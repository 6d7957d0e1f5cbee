"""Artifact throughput through the official MLflow client: a 512 MiB file up (log_artifact)
and down (download_artifacts) against a release server, with the server's RSS sampled from
/proc while it streams, and `server model-digest` over a 100-file model folder.

Run by `make bench-artifacts` (and `make bench`). Environment: MLFLOW_TRACKING_URI,
MLFLOW_TRACKING_TOKEN, GATEHOUSE_PID (the server's pid), GATEHOUSE_BIN, BENCH_TABLE (the
tab-separated table `make bench` prints). Exits non-zero when a figure misses its target.
"""
import os
import subprocess
import sys
import tempfile
import threading
import time

import mlflow
from mlflow import MlflowClient

MIB = 1 << 20
SIZE = 512 * MIB
TARGET_MIBS = 300.0
TARGET_RSS_GROWTH_MIB = 64.0
TARGET_DIGEST_S = 1.0


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


class Sampler:
    """The server's peak RSS while a transfer runs."""

    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


rows = []


def record(figure, target, measured, unit, ok):
    rows.append((figure, target, f"{measured:,.1f} {unit}", "pass" if ok else "FAIL"))
    print(f"{figure}: {measured:,.1f} {unit} (target {target})")


def main():
    pid = int(os.environ["GATEHOUSE_PID"])
    work = tempfile.mkdtemp(dir=os.environ.get("BENCH_DIR"))
    big = os.path.join(work, "weights.bin")
    with open(big, "wb") as f:
        block = os.urandom(MIB)
        for _ in range(SIZE // MIB):
            f.write(block)
    mlflow.set_experiment(f"bench-artifacts-{int(time.time())}")
    idle = rss_mib(pid)
    with mlflow.start_run() as run:
        with Sampler(pid) as up_rss:
            t = time.perf_counter()
            mlflow.log_artifact(big)
            up = time.perf_counter() - t
    os.remove(big)
    dest = os.path.join(work, "down")
    with Sampler(pid) as down_rss:
        t = time.perf_counter()
        path = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="weights.bin", dst_path=dest)
        down = time.perf_counter() - t
    if os.path.getsize(path) != SIZE:
        print("the download is not the size uploaded", file=sys.stderr)
        sys.exit(1)
    up_mibs, down_mibs = SIZE / MIB / up, SIZE / MIB / down
    growth = max(up_rss.peak, down_rss.peak) - idle
    record("artifacts: 512 MiB up through the MLflow client", f"≥ {TARGET_MIBS:.0f} MiB/s", up_mibs, "MiB/s", up_mibs >= TARGET_MIBS)
    record("artifacts: 512 MiB down through the MLflow client", f"≥ {TARGET_MIBS:.0f} MiB/s", down_mibs, "MiB/s", down_mibs >= TARGET_MIBS)
    record("artifacts: server RSS growth while streaming", f"≤ {TARGET_RSS_GROWTH_MIB:.0f} MiB", growth, "MiB", growth <= TARGET_RSS_GROWTH_MIB)
    os.remove(path)

    model = os.path.join(work, "model")
    os.makedirs(os.path.join(model, "shards"))
    for i in range(100):
        with open(os.path.join(model, "shards", f"part-{i:03}.bin"), "wb") as f:
            f.write(os.urandom(256 * 1024))
    t = time.perf_counter()
    out = subprocess.run([os.environ["GATEHOUSE_BIN"], "model-digest", model], capture_output=True, text=True, check=True)
    digest_s = time.perf_counter() - t
    if not out.stdout.startswith("sha256:"):
        print(f"model-digest said {out.stdout!r}", file=sys.stderr)
        sys.exit(1)
    record("artifacts: digest of a 100-file model (25 MiB)", f"≤ {TARGET_DIGEST_S:.0f} s", digest_s, "s", digest_s <= TARGET_DIGEST_S)

    with open(os.environ["BENCH_TABLE"], "a") as f:
        for r in rows:
            f.write("\t".join(r) + "\n")
    print(f"idle RSS {idle:.1f} MiB, peak up {up_rss.peak:.1f} MiB, peak down {down_rss.peak:.1f} MiB; up {up:.2f} s, down {down:.2f} s")
    if any(r[3] == "FAIL" for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
