# Sourced by the test scripts: a release Gatehouse on a throwaway database, stopped (by its
# own pid, nothing else) and removed when the script exits.
#
#   source "$root/end2end/serve.sh"
#   gatehouse_work                      # temp dir, DATABASE_URL, cleanup on exit
#   token=$(gatehouse_token USER LABEL)  # a scientist USER and an API token for it
#   gatehouse_serve PORT [serve args]   # start, wait until /healthz answers
#   gatehouse_idp PORT CALLBACK         # the test OpenID provider (end2end/oidc), and the
#                                       # GATEHOUSE_OIDC_* settings the next serve reads
#   gatehouse_log_tail                  # the server log's end, after a failure

gatehouse_work() {
  work=$(mktemp -d)
  export DATABASE_URL="sqlite://$work/test.db" GATEHOUSE_LOG=warn
  trap gatehouse_cleanup EXIT
}

gatehouse_token() {
  echo "client-test password" | "$root/target/release/server" create-user --username "$1" --role scientist --password-stdin >&2
  "$root/target/release/server" create-token --username "$1" --name "$2"
}

gatehouse_serve() {
  local port=$1
  shift
  LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$root/target/site" \
    "$root/target/release/server" serve "$@" >"$work/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the server did not start on port $port"
  gatehouse_log_tail
  return 1
}

# The OpenID Connect provider of the single sign-on specs, with the people of
# end2end/oidc/accounts.json; Gatehouse is its one client (`gatehouse-e2e`).
gatehouse_idp() {
  local port=$1 callback=$2
  OIDC_PORT=$port OIDC_CLIENT_ID=gatehouse-e2e OIDC_CLIENT_SECRET=e2e-client-secret \
    OIDC_REDIRECT_URIS=$callback OIDC_ACCOUNTS="$root/end2end/oidc/accounts.json" \
    node "$root/end2end/oidc/provider.mjs" >"$work/idp.log" 2>&1 &
  idp_pid=$!
  export GATEHOUSE_OIDC_ISSUER="http://127.0.0.1:$port" GATEHOUSE_OIDC_CLIENT_ID=gatehouse-e2e \
    GATEHOUSE_OIDC_CLIENT_SECRET=e2e-client-secret GATEHOUSE_OIDC_SCOPES="profile email groups" \
    GATEHOUSE_OIDC_ROLE_MAP="ml-reviewers=reviewer,staff=viewer" GATEHOUSE_OIDC_NAME="Test IdP"
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/.well-known/openid-configuration" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the identity provider did not start on port $port"
  cat "$work/idp.log"
  return 1
}

gatehouse_cleanup() {
  if [ -n "${idp_pid:-}" ]; then
    kill "$idp_pid" 2>/dev/null || true
    wait "$idp_pid" 2>/dev/null || true
  fi
  if [ -n "${pid:-}" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}

gatehouse_log_tail() {
  echo "--- server log (last 40 lines) ---"
  tail -n 40 "$work/server.log"
}
