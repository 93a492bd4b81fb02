#!/usr/bin/env bash
# Serve Quorum on 127.0.0.1:$1 with a Celery worker and beat beside it; stop both on exit.
# The console shows the address, the demo logins and real problems only; the worker's own
# output (including the e-mails it "sends" to the console backend) goes to .celery-worker.log.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${1:-8000}"
# Settings read it: SITE_URL's default (the links in e-mails) follows the port served on.
export PORT="$port"
bin=.venv/bin
worker_log="${CELERY_WORKER_LOG:-.celery-worker.log}"

# kombu's filesystem transport needs no host, but warns on every connection when none is named.
if [ "${CELERY_BROKER_URL:-}" = "filesystem://" ]; then
  export CELERY_BROKER_URL="filesystem://localhost//"
fi

# The demo's accounts get their holdings by e-mail; a real register uses control numbers.
export REGISTER_LINK_BY_EMAIL="${REGISTER_LINK_BY_EMAIL:-1}"
"$bin/python" manage.py migrate --noinput --verbosity 0
"$bin/python" manage.py seed_demo

worker_env=()
if [ "$(id -u)" = 0 ]; then
  # Containers often run as root. Celery then warns on every start: the warning guards against
  # a root worker unpickling messages, and this worker accepts JSON only (Celery's default). So
  # it is silenced here, only for root, rather than the worker started under another account,
  # which could not write the SQLite database or the queue folder that root created.
  worker_env+=("PYTHONWARNINGS=ignore:You're running the worker with superuser privileges")
fi
env ${worker_env[@]+"${worker_env[@]}"} "$bin/celery" -A config worker --beat --pool=solo --loglevel=WARNING \
  >"$worker_log" 2>&1 &
worker_pid=$!
trap 'kill "$worker_pid" 2>/dev/null || true' EXIT INT TERM

echo
echo "Quorum is at http://127.0.0.1:${port}/  (admin: http://127.0.0.1:${port}/admin/, API docs: /api/v1/docs/)"
echo "A Celery worker with beat runs beside it (log: ${worker_log}). Ctrl-C stops both."
echo
# runserver's banner warns against production use; this script is for a laptop, and says so.
DJANGO_RUNSERVER_HIDE_WARNING=true "$bin/python" manage.py runserver "127.0.0.1:${port}"
