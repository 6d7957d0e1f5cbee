#!/usr/bin/env bash
# `make bench-first-load`: the release Gatehouse with the demo workspace, and Chromium loading
# each page cold (empty cache) as a signed-in reviewer: bytes of JS + wasm + CSS on the wire
# (brotli, as the server sends them) and the time until the page is hydrated.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
port=${1:-3423}
source "$root/end2end/serve.sh"
gatehouse_work
gatehouse_serve "$port" --demo
cd "$root/end2end"
GATEHOUSE_URL="http://127.0.0.1:$port" BENCH_TABLE="$root/target/bench-table.tsv" \
  node "$root/end2end/bench/first_load.mjs"
