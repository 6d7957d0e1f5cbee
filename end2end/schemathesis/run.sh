#!/usr/bin/env bash
# Property-based API testing with schemathesis (PyPI) against /api/openapi.json of a release
# Gatehouse with the demo workspace: generated requests for every operation, as a scientist
# (who may write most things) and as an admin (policies, risk tiers). Fails on any response
# >= 500, any status the document does not list, and any error body outside the documented
# shape.
#
#   end2end/schemathesis/run.sh PYTHON_VENV_BIN [PORT] [EXAMPLES]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:?path to the venv bin folder}
port=${2:-3422}
examples=${3:-30}
source "$root/end2end/serve.sh"
gatehouse_work
gatehouse_serve "$port" --demo
scientist=$(gatehouse_token st-scientist schemathesis)
echo "schemathesis password" | "$root/target/release/server" create-user --username st-admin --role admin --password-stdin >&2
admin=$("$root/target/release/server" create-token --username st-admin --name schemathesis)
status=0
for token in "$scientist" "$admin"; do
  if ! "$bin/st" run "http://127.0.0.1:$port/api/openapi.json" \
      -H "Authorization: Bearer $token" -n "$examples" --workers 2 \
      --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
      >"$work/st.txt" 2>&1; then
    status=1
  fi
  sed -n '/SUMMARY/,$p' "$work/st.txt"
  [ "$status" -eq 0 ] || { sed -n '/FAILURES/,/SUMMARY/p' "$work/st.txt" | head -80; break; }
done
if grep -q "database is locked" "$work/server.log"; then echo 'FAIL "database is locked" in the log'; status=1; fi
[ "$status" -eq 0 ] || gatehouse_log_tail
exit "$status"
