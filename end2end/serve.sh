# Sourced by the test scripts: a release Gatehouse on a throwaway database, stopped (by its
# own pid, nothing else) and removed when the script exits.
#
#   source "$root/end2end/serve.sh"
#   gatehouse_work                      # temp dir, DATABASE_URL, cleanup on exit
#   token=$(gatehouse_token USER LABEL)  # a scientist USER and an API token for it
#   gatehouse_serve PORT [serve args]   # start, wait until /healthz answers
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

gatehouse_cleanup() {
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
