# Sourced by the scripts that run Gatehouse as a team outgrowing one machine would: a throwaway
# PostgreSQL cluster, a real S3-protocol server for the model files, several release servers on
# them, and HAProxy in front. Everything listens on 127.0.0.1, is started by this script and
# stopped by its own pid (and removed) when the script exits.
#
#   source "$root/end2end/cluster.sh"
#   cluster_work                       # temp dirs, cleanup on exit
#   cluster_postgres PORT              # initdb + start; exports DATABASE_URL
#   cluster_s3 PORT                    # moto's server and a bucket; exports ARTIFACT_ROOT, AWS_*
#   cluster_replica N PORT [args]      # `server serve` as replica N (its pid in replica_pid[N])
#   cluster_kill N                     # SIGKILL replica N
#   cluster_stop N                     # stop replica N as a service manager does (SIGTERM)
#   cluster_balancer PORT PORTS...     # HAProxy over the replicas; its log in $work/haproxy.log
#
# The replicas share what the README says every server needs: DATABASE_URL, the signing key
# (AUDIT_SIGNING_KEY_FILE) and ARTIFACT_ROOT.

declare -a replica_pid=()
declare -a replica_port=()
balancer_pid=""
s3_pid=""

cluster_work() {
  work=$(mktemp -d)
  # initdb refuses to run as root: the cluster then belongs to Debian's `postgres` user, in a
  # folder of its own that user can enter.
  pgdir=$(mktemp -d)
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$pgdir"
    as_pg=(runuser -u postgres --)
  else
    as_pg=()
  fi
  export GATEHOUSE_LOG=warn
  trap cluster_cleanup EXIT
}

cluster_pg_bin() {
  ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1
}

cluster_postgres() {
  local port=$1 bin
  bin=$(cluster_pg_bin)
  "${as_pg[@]}" "$bin/initdb" -D "$pgdir/data" -A trust -U gatehouse -E UTF8 --no-sync >"$work/initdb.log" 2>&1 ||
    { cat "$work/initdb.log"; return 1; }
  # Durable as in production: fsync and synchronous commits on (the defaults).
  "${as_pg[@]}" "$bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $pgdir -c max_connections=300" start >/dev/null ||
    { cat "$pgdir/postgres.log"; return 1; }
  "$bin/createdb" -h 127.0.0.1 -p "$port" -U gatehouse gatehouse
  export DATABASE_URL="postgres://gatehouse@127.0.0.1:$port/gatehouse"
  pg_port=$port
}

cluster_psql() {
  "$(cluster_pg_bin)/psql" -h 127.0.0.1 -p "$pg_port" -U gatehouse -d gatehouse -v ON_ERROR_STOP=1 -qAtX "$@"
}

cluster_s3() {
  local port=$1
  "$root/.venv-s3/bin/moto_server" -H 127.0.0.1 -p "$port" >"$work/s3.log" 2>&1 &
  s3_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break
    sleep 0.1
  done
  curl -fsS -o /dev/null -X PUT "http://127.0.0.1:$port/gatehouse-models"
  export ARTIFACT_ROOT="s3://gatehouse-models/replicas" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
    AWS_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ALLOW_HTTP=true
}

cluster_replica() {
  local n=$1 port=$2
  shift 2
  LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$root/target/site" \
    "$root/target/release/server" serve "$@" >>"$work/replica-$n.log" 2>&1 &
  replica_pid[n]=$!
  replica_port[n]=$port
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "replica $n did not start on port $port"
  tail -n 40 "$work/replica-$n.log"
  return 1
}

cluster_kill() {
  local n=$1
  kill -9 "${replica_pid[n]}" 2>/dev/null || true
  wait "${replica_pid[n]}" 2>/dev/null || true
  replica_pid[n]=""
}

cluster_stop() {
  local n=$1
  kill "${replica_pid[n]}" 2>/dev/null || true
  wait "${replica_pid[n]}" 2>/dev/null || true
  replica_pid[n]=""
}

cluster_balancer() {
  local port=$1 i=0
  shift
  {
    cat <<CFG
global
    maxconn 4096
    log stdout format raw local0

defaults
    mode http
    log global
    # accept time (unix s.ms) | replica | status | termination state | method | path
    log-format "%Ts.%ms|%s|%ST|%tsc|%HM|%HP"
    option forwardfor
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    timeout http-keep-alive 10s
    # A request whose connection to a replica could not be made is sent to another one; one
    # that reached a replica is never sent twice (it may have been stored).
    retries 3
    retry-on conn-failure
    option redispatch 1

frontend gatehouse
    bind 127.0.0.1:$port
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /healthz
    default-server inter 500ms fall 1 rise 1
CFG
    for p in "$@"; do
      i=$((i + 1))
      echo "    server r$i 127.0.0.1:$p check"
    done
  } >"$work/haproxy.cfg"
  haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
  balancer_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "HAProxy did not start on port $port"
  cat "$work/haproxy.log"
  return 1
}

cluster_cleanup() {
  local p
  for p in "${replica_pid[@]}" "$balancer_pid" "$s3_pid"; do
    if [ -n "$p" ]; then
      kill "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
  if [ -f "$pgdir/data/postmaster.pid" ]; then
    "${as_pg[@]}" "$(cluster_pg_bin)/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work" "$pgdir"
}
