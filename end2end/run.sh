#!/usr/bin/env bash
# Runs the Playwright suite (hydrated and JavaScript-disabled projects) against the release
# build, served with demo data from a throwaway database. Stops only the server it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=${1:-3417}
source "$root/end2end/serve.sh"
gatehouse_work
# Single sign-on through a real OpenID provider (end2end/oidc/provider.mjs) beside the demo accounts.
gatehouse_idp $((port + 20)) "http://127.0.0.1:$port/auth/oidc/callback"
# Webhooks may reach the spec's receiver on loopback; two quick attempts make a dead delivery.
gatehouse_serve "$port" --demo --webhook-allowed-networks 127.0.0.1 --webhook-max-attempts 2 --webhook-retry-ms 200
cd "$root/end2end"
# The visual check first, while the demo workspace is as seeded; then every other spec.
if ! GATEHOUSE_URL="http://127.0.0.1:$port" npx playwright test tests/visual.spec.ts \
  || ! GATEHOUSE_URL="http://127.0.0.1:$port" GATEHOUSE_SKIP_VISUAL=1 npx playwright test; then
  gatehouse_log_tail
  exit 1
fi
