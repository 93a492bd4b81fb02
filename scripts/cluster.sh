#!/usr/bin/env bash
# The production topology on one machine (README, Deploying; issue 17):
#   nginx :8480 -> two gunicorn nodes :8481 :8482 (production settings, DEBUG off)
#   PgBouncer :6435 (transaction mode) -> a PostgreSQL 15 primary :5434 of its own
#   a streaming replica :5433 made with pg_basebackup (a replication slot), read through the router
#   Redis :6379 (cache db 8, broker db 9), a Celery worker per queue (mail; work) and beat
# Usage: scripts/cluster.sh up|down|status. Everything lives under $CLUSTER_DIR; `down` stops
# all of it and removes the databases (logs stay). The machine's own PostgreSQL on 5432 is never
# touched: the primary is a cluster of its own, made with initdb.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
# The daemons started here must not inherit the caller's descriptors: under
# `flock /tmp/team/bench.lock scripts/cluster.sh up` they would hold the lock while the cluster runs.
SELF=$(readlink -f "$ROOT/scripts/cluster.sh")
for fd_path in /proc/$$/fd/*; do
  fd=${fd_path##*/}
  if [ "$fd" -gt 2 ] && [ "$(readlink -f "$fd_path" 2>/dev/null)" != "$SELF" ]; then
    eval "exec $fd>&-" 2>/dev/null || true
  fi
done
RUN=${CLUSTER_DIR:-/tmp/quorum-cluster}
PGBIN=/usr/lib/postgresql/15/bin
PRIMARY_PORT=${CLUSTER_PRIMARY_PORT:-5434}
REPLICA_PORT=${CLUSTER_REPLICA_PORT:-5433}
BOUNCER_PORT=${CLUSTER_BOUNCER_PORT:-6435}
HTTP_PORT=${CLUSTER_HTTP_PORT:-8480}
NODE_PORTS=(${CLUSTER_NODE_PORTS:-8481 8482})
NODE_WORKERS=${CLUSTER_NODE_WORKERS:-3}
REDIS_CACHE_DB=${CLUSTER_REDIS_CACHE_DB:-8}
REDIS_BROKER_DB=${CLUSTER_REDIS_BROKER_DB:-9}
DB=quorum
SLOT=quorum_replica
BIN=$ROOT/.venv/bin
LOG=$RUN/log

say() { echo "cluster: $*"; }
as_postgres() { runuser -u postgres -- "$@"; }

packages() {
  local missing=()
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
  [ ${#missing[@]} -eq 0 ] && return
  say "installing ${missing[*]} (Debian packages; their services are not started)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${missing[@]}" >"$LOG/apt.log" 2>&1 \
    || { apt-get update >>"$LOG/apt.log" 2>&1 && apt-get install -y --no-install-recommends "${missing[@]}" >>"$LOG/apt.log" 2>&1; }
}

write_env() {
  # The environment of every process of the cluster; tests/system/test_cluster.py reads it too.
  local secret audit
  secret=$("$BIN/python" -c "import secrets; print(secrets.token_urlsafe(50))")
  audit=$("$BIN/python" -c "import secrets; print(secrets.token_urlsafe(50))")
  umask 077
  cat >"$RUN/env" <<EOF
DJANGO_SETTINGS_MODULE=config.settings
DEBUG=0
SECRET_KEY=$secret
AUDIT_KEY=$audit
ALLOWED_HOSTS=127.0.0.1,localhost
SITE_URL=http://127.0.0.1:$HTTP_PORT
SECURE_SSL_REDIRECT=0
SESSION_COOKIE_SECURE=0
CSRF_COOKIE_SECURE=0
SECURE_HSTS_SECONDS=0
NUM_PROXIES=1
DATABASE_URL=postgres://postgres@127.0.0.1:$BOUNCER_PORT/$DB
CONN_MAX_AGE=0
DISABLE_SERVER_SIDE_CURSORS=1
DATABASE_REPLICA_URL=postgres://postgres@127.0.0.1:$BOUNCER_PORT/${DB}_replica
CACHE_URL=redis://127.0.0.1:6379/$REDIS_CACHE_DB
CELERY_BROKER_URL=redis://127.0.0.1:6379/$REDIS_BROKER_DB
CELERY_MAIL_QUEUE=mail
CELERY_WORK_QUEUE=work
CELERY_TASK_DEFAULT_QUEUE=work
EMAIL_URL=filemail:///$RUN/mail
LOG_LEVEL=WARNING
PRIMARY_DIRECT_URL=postgres://postgres@127.0.0.1:$PRIMARY_PORT/$DB
REPLICA_DIRECT_URL=postgres://postgres@127.0.0.1:$REPLICA_PORT/$DB
SESSION_POOL_URL=postgres://postgres@127.0.0.1:$BOUNCER_PORT/${DB}_session
CLUSTER_URL=http://127.0.0.1:$HTTP_PORT
CLUSTER_NODES=$(printf 'http://127.0.0.1:%s,' "${NODE_PORTS[@]}" | sed 's/,$//')
EOF
  umask 022
}

# Run a command with the cluster's environment (plus KEY=VALUE overrides).
with_env() { env $(grep -v '^#' "$RUN/env" | xargs) "$@"; }

wait_for() {  # wait_for <what> <tries of 0.2 s> <command...>
  local what=$1 tries=$2
  shift 2
  for _ in $(seq "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  say "$what did not come up; logs in $LOG"
  return 1
}

start_postgres() {
  local data=$RUN/pg/primary
  as_postgres "$PGBIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$LOG/initdb.log"
  cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PRIMARY_PORT
unix_socket_directories = '$RUN/pg'
max_connections = 120
timezone = 'UTC'
wal_level = replica
max_wal_senders = 4
max_replication_slots = 4
hot_standby = on
hot_standby_feedback = on
EOF
  # initdb's trust pg_hba already lets 127.0.0.1 replicate; say so for whoever reads the file.
  echo "host replication postgres 127.0.0.1/32 trust" >>"$data/pg_hba.conf"
  as_postgres "$PGBIN/pg_ctl" -D "$data" -l "$LOG/primary.log" -w start >/dev/null
  psql -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -c "CREATE DATABASE $DB" postgres
  say "primary on $PRIMARY_PORT"
}

start_replica() {
  local data=$RUN/pg/replica
  as_postgres "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$data" \
    -X stream -R -C -S "$SLOT" --checkpoint=fast
  echo "port = $REPLICA_PORT" >>"$data/postgresql.auto.conf"
  as_postgres "$PGBIN/pg_ctl" -D "$data" -l "$LOG/replica.log" -w start >/dev/null
  wait_for "the replica's stream" 100 test "$(psql -qtA -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres \
    -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" postgres)" = 1
  say "replica on $REPLICA_PORT, streaming from slot $SLOT"
}

start_pgbouncer() {
  local dir=$RUN/pgbouncer
  mkdir -p "$dir" && chown postgres "$dir"
  echo '"postgres" ""' >"$dir/userlist.txt"
  cat >"$dir/pgbouncer.ini" <<EOF
[databases]
; the web nodes and the mail worker: a server connection per transaction
$DB = host=127.0.0.1 port=$PRIMARY_PORT dbname=$DB pool_mode=transaction
; the work worker: a register import keeps a temporary table across its transactions
${DB}_session = host=127.0.0.1 port=$PRIMARY_PORT dbname=$DB pool_mode=session pool_size=4
${DB}_replica = host=127.0.0.1 port=$REPLICA_PORT dbname=$DB pool_mode=transaction
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = postgres
stats_users = postgres
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
reserve_pool_size = 5
ignore_startup_parameters = extra_float_digits,options
logfile = $LOG/pgbouncer.log
log_connections = 0
log_disconnections = 0
pidfile = $dir/pgbouncer.pid
EOF
  chown postgres "$dir"/* && touch "$LOG/pgbouncer.log" && chown postgres "$LOG/pgbouncer.log"
  as_postgres pgbouncer -d "$dir/pgbouncer.ini"
  wait_for pgbouncer 50 psql -qtA -h 127.0.0.1 -p "$BOUNCER_PORT" -U postgres -c "SELECT 1" "$DB"
  say "pgbouncer on $BOUNCER_PORT (transaction mode; ${DB}_session for imports; ${DB}_replica)"
}

migrate() {
  # Straight to the primary: DDL has nothing to gain from the pooler.
  with_env DATABASE_URL="postgres://postgres@127.0.0.1:$PRIMARY_PORT/$DB" "$BIN/python" manage.py migrate --noinput -v0
  with_env "$BIN/python" manage.py collectstatic --noinput -v0
  say "migrated; static files collected"
}

start_nodes() {
  local port
  for port in "${NODE_PORTS[@]}"; do
    with_env "$BIN/gunicorn" config.wsgi --daemon --workers "$NODE_WORKERS" --bind "127.0.0.1:$port" \
      --pid "$RUN/gunicorn-$port.pid" --error-logfile "$LOG/gunicorn-$port.log" --log-level warning \
      --graceful-timeout 10
  done
  for port in "${NODE_PORTS[@]}"; do
    wait_for "gunicorn on $port" 300 curl -fsS "http://127.0.0.1:$port/healthz"
  done
  say "gunicorn nodes on ${NODE_PORTS[*]} ($NODE_WORKERS workers each)"
}

start_nginx() {
  local dir=$RUN/nginx port servers=""
  mkdir -p "$dir/tmp"
  chown -R www-data "$dir/tmp"
  for port in "${NODE_PORTS[@]}"; do servers+="    server 127.0.0.1:$port;"$'\n'; done
  cat >"$dir/nginx.conf" <<EOF
user www-data;
worker_processes 1;
pid $dir/nginx.pid;
error_log $LOG/nginx-error.log warn;
events { worker_connections 1024; }
http {
  log_format upstream '\$remote_addr [\$time_local] "\$request" \$status \$body_bytes_sent '
                      'upstream=\$upstream_addr upstream_status=\$upstream_status rt=\$request_time';
  access_log $LOG/nginx-access.log upstream buffer=64k flush=1s;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  client_max_body_size 3m;
  upstream quorum {
    least_conn;
$servers  }
  server {
    listen 127.0.0.1:$HTTP_PORT;
    location / {
      proxy_pass http://quorum;
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      # A POST (a ballot) is never sent to a second node: nginx retries only idempotent requests.
      proxy_next_upstream error timeout;
      proxy_read_timeout 60s;
    }
  }
}
EOF
  nginx -p "$dir" -c "$dir/nginx.conf"
  wait_for nginx 50 curl -fsS "http://127.0.0.1:$HTTP_PORT/healthz"
  say "nginx on 127.0.0.1:$HTTP_PORT"
}

workers_answer() {
  [ "$(with_env "$BIN/celery" -A config inspect ping --timeout 2 2>/dev/null | grep -c ': OK')" = 2 ]
}

start_workers() {
  # Celery warns a root worker against pickle; these accept JSON only (as scripts/run.sh says).
  local quiet="PYTHONWARNINGS=ignore:You're running the worker with superuser privileges"
  with_env "$quiet" "$BIN/celery" -A config worker --detach -Q mail -n "mail@%h" --concurrency 2 \
    --pidfile "$RUN/celery-mail.pid" --logfile "$LOG/celery-mail.log" --loglevel WARNING
  with_env "$quiet" DATABASE_URL="postgres://postgres@127.0.0.1:$BOUNCER_PORT/${DB}_session" \
    "$BIN/celery" -A config worker --detach -Q work -n "work@%h" --concurrency 2 \
    --pidfile "$RUN/celery-work.pid" --logfile "$LOG/celery-work.log" --loglevel WARNING
  with_env "$BIN/celery" -A config beat --detach --pidfile "$RUN/celery-beat.pid" \
    --logfile "$LOG/celery-beat.log" --loglevel WARNING
  wait_for "the Celery workers" 100 workers_answer
  say "celery workers on queues mail and work, and beat"
}

up() {
  if [ -e "$RUN/pg/primary/postmaster.pid" ]; then
    say "already up (scripts/cluster.sh down first)"
    exit 1
  fi
  local started=$SECONDS port
  for port in "$PRIMARY_PORT" "$REPLICA_PORT" "$BOUNCER_PORT" "$HTTP_PORT" "${NODE_PORTS[@]}"; do
    if ss -Hltn "sport = :$port" | grep -q .; then
      say "port $port is taken: free it or choose others (CLUSTER_*_PORT)"
      exit 1
    fi
  done
  trap 'say "up failed: stopping what it started"; down; exit 1' ERR
  rm -rf "$RUN/pg" "$RUN/nginx" "$RUN/pgbouncer" "$RUN/mail"
  mkdir -p "$RUN/pg" "$LOG" "$RUN/mail"
  chown postgres "$RUN/pg" "$LOG"
  packages
  write_env
  redis-cli -n "$REDIS_CACHE_DB" flushdb >/dev/null
  redis-cli -n "$REDIS_BROKER_DB" flushdb >/dev/null
  start_postgres
  start_replica
  start_pgbouncer
  migrate
  start_nodes
  start_nginx
  start_workers
  trap - ERR
  say "up in $((SECONDS - started)) s: http://127.0.0.1:$HTTP_PORT/ (environment: $RUN/env)"
}

stop_pidfiles() {  # stop_pidfiles <file>...: TERM to each at once, wait up to 20 s for all, then KILL
  local file pid pids=() names=()
  for file in "$@"; do
    [ -s "$file" ] || continue
    pid=$(cat "$file")
    rm -f "$file"
    kill -TERM "$pid" 2>/dev/null || continue
    pids+=("$pid")
    names+=("$(basename "$file" .pid)")
  done
  for _ in $(seq 100); do
    local alive=0
    for pid in ${pids[@]+"${pids[@]}"}; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  for pid in ${pids[@]+"${pids[@]}"}; do kill -KILL "$pid" 2>/dev/null || true; done
  [ ${#names[@]} -eq 0 ] || say "stopped ${names[*]}"
}

down() {
  local port files=("$RUN/nginx/nginx.pid")
  for port in "${NODE_PORTS[@]}"; do files+=("$RUN/gunicorn-$port.pid"); done
  # The web first (no new requests), then the workers and beat, then the pooler and databases.
  stop_pidfiles "${files[@]}"
  stop_pidfiles "$RUN/celery-beat.pid" "$RUN/celery-mail.pid" "$RUN/celery-work.pid"
  stop_pidfiles "$RUN/pgbouncer/pgbouncer.pid"
  for data in "$RUN/pg/replica" "$RUN/pg/primary"; do
    if [ -e "$data/postmaster.pid" ]; then
      as_postgres "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null && say "stopped postgres in $data"
    fi
  done
  if redis-cli ping >/dev/null 2>&1; then
    redis-cli -n "$REDIS_CACHE_DB" flushdb >/dev/null
    redis-cli -n "$REDIS_BROKER_DB" flushdb >/dev/null
  fi
  rm -rf "$RUN/pg" "$RUN/pgbouncer" "$RUN/nginx" "$RUN/env" "$RUN/celerybeat-schedule"
  say "down (logs kept in $LOG)"
}

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null && echo up || echo down; }

status() {
  local port
  [ -d "$RUN" ] || { say "not up"; exit 3; }
  echo "nginx :$HTTP_PORT            $(alive "$RUN/nginx/nginx.pid")"
  for port in "${NODE_PORTS[@]}"; do echo "gunicorn :$port         $(alive "$RUN/gunicorn-$port.pid")"; done
  echo "pgbouncer :$BOUNCER_PORT        $(alive "$RUN/pgbouncer/pgbouncer.pid")"
  echo "primary :$PRIMARY_PORT          $(pg_isready -q -U postgres -h 127.0.0.1 -p "$PRIMARY_PORT" && echo up || echo down)"
  echo "replica :$REPLICA_PORT          $(pg_isready -q -U postgres -h 127.0.0.1 -p "$REPLICA_PORT" && echo up || echo down)"
  for name in mail work beat; do echo "celery $name            $(alive "$RUN/celery-$name.pid")"; done
  pg_isready -q -U postgres -h 127.0.0.1 -p "$PRIMARY_PORT" || return 0
  echo "-- replication (on the primary): replay lag"
  psql -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -c "SELECT application_name, state, sent_lsn, replay_lsn, \
    replay_lag FROM pg_stat_replication" postgres
  echo "-- pgbouncer pools"
  psql -h 127.0.0.1 -p "$BOUNCER_PORT" -U postgres -c "SHOW POOLS" pgbouncer 2>/dev/null || true
  echo "-- queue depth (broker db $REDIS_BROKER_DB): mail $(redis-cli -n "$REDIS_BROKER_DB" llen mail), work $(
    redis-cli -n "$REDIS_BROKER_DB" llen work)"
  echo "-- failed notifications: $(psql -qtA -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -c \
    "SELECT count(*) FROM proposals_notification WHERE failed_at IS NOT NULL" "$DB" 2>/dev/null || echo '?')"
  echo "-- 5xx answered by nginx: $(grep -cE '" 5[0-9]{2} ' "$LOG/nginx-access.log" 2>/dev/null || true)"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
