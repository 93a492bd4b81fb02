#!/usr/bin/env bash
# Serve Quorum on 127.0.0.1:$1 with a Celery worker and beat beside it; stop both on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${1:-8000}"
bin=.venv/bin

"$bin/python" manage.py migrate --noinput
"$bin/python" manage.py seed_demo
"$bin/celery" -A config worker --beat --pool=solo --loglevel=WARNING \
  >.celery-worker.log 2>&1 &
worker_pid=$!
trap 'kill "$worker_pid" 2>/dev/null || true' EXIT INT TERM

echo
echo "Quorum is at http://127.0.0.1:${port}/  (admin: http://127.0.0.1:${port}/admin/, API docs: /api/v1/docs/)"
echo "A Celery worker with beat runs beside it (log: .celery-worker.log). Ctrl-C stops both."
echo
"$bin/python" manage.py runserver "127.0.0.1:${port}"
