#!/usr/bin/env bash
# Schemathesis against /api/v1/schema/ on a served copy of the demo data, once per role
# (visitor, member, secretary), with a bounded budget. Fails on any 5xx, any response the
# schema does not describe, or any undocumented status code. Targets 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
port="${FUZZ_PORT:-8099}"
examples="${FUZZ_EXAMPLES:-20}"
# A fixed seed keeps CI reproducible; FUZZ_SEED=random (or any number) explores further.
seed="${FUZZ_SEED:-20261126}"
work=$(mktemp -d)
# Only the server this script started: `kill 0` would end the whole process group (make, CI).
trap 'if [[ -n "${server:-}" ]]; then kill "$server" 2>/dev/null || true; fi; rm -rf "$work"' EXIT

if [[ -n "${FUZZ_DATABASE_URL:-}" ]]; then
  export DATABASE_URL="$FUZZ_DATABASE_URL"
else
  export DATABASE_URL="sqlite:///$work/fuzz.sqlite3"
fi
export DJANGO_SETTINGS_MODULE=config.settings DEBUG=0 SECRET_KEY="fuzz-$(date +%s%N)-$RANDOM$RANDOM-not-a-real-key" AUDIT_KEY="fuzz-audit-$(date +%s%N)-$RANDOM$RANDOM-not-a-real-key"
export ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 LOG_LEVEL=ERROR
unset CELERY_BROKER_URL  # tasks run eagerly: the fuzzer needs no worker

"$bin/python" manage.py migrate --noinput -v0
"$bin/python" manage.py seed_demo >/dev/null
"$bin/python" manage.py collectstatic --noinput -v0
# Tokens minted by the operator (as after a second factor: production runs with REQUIRE_2FA on).
tokens=$("$bin/python" manage.py shell -c "
from django.contrib.auth.models import User
from core.services import api_token_issue
print(' '.join(api_token_issue(user=User.objects.get(username=name), otp_verified=True)[0] for name in ('alice', 'secretary')))
")
read -r member_token secretary_token <<<"$(echo "$tokens" | tail -n 1)"

# No request-line limit: gunicorn's 414 for huge query strings is deployment configuration, not
# the API's contract, and would hide what the app itself does with such a request.
"$bin/gunicorn" config.wsgi -w 2 -b "127.0.0.1:$port" --limit-request-line 0 --log-level error \
  2>"$work/server.log" &
server=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done

# Logout is left out: it would revoke the token the rest of the run uses.
status=0
for role in visitor member secretary; do
  case $role in
    visitor) auth=() ;;
    member) auth=(-H "Authorization: Token $member_token") ;;
    secretary) auth=(-H "Authorization: Token $secretary_token") ;;
  esac
  echo "== schemathesis as $role ($examples examples per operation)"
  if "$bin/schemathesis" run "http://127.0.0.1:$port/api/v1/schema/" "${auth[@]}" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance \
    --phases fuzzing,stateful --max-examples "$examples" --workers 2 --no-color \
    --exclude-path /api/v1/auth/logout/ \
    $([[ "$seed" == random ]] || echo "--seed $seed") >"$work/$role.log" 2>&1; then
    grep -E "generated|passed" "$work/$role.log" | tail -n 2
  else
    cat "$work/$role.log"
    status=1
  fi
done
exit $status
