#!/usr/bin/env bash
# make restore FILE=backups/quorum-....dump: replace the database's contents with a backup.
set -euo pipefail
cd "$(dirname "$0")/.."
file="${1:?usage: restore.sh BACKUP_FILE}"
[[ -f "$file" ]] || { echo "restore: no such file: $file" >&2; exit 2; }
url="${DATABASE_URL:-sqlite:///$PWD/db.sqlite3}"
case "$url" in
  postgres://* | postgresql://*)
    # One transaction: a restore that fails half-way leaves the database as it was.
    pg_restore --clean --if-exists --no-owner --single-transaction --dbname "$url" "$file"
    ;;
  sqlite://*)
    .venv/bin/python scripts/sqlite_copy.py "$file" "${url#sqlite://}"
    ;;
  *) echo "restore: unsupported DATABASE_URL scheme: ${url%%:*}" >&2; exit 2 ;;
esac
echo "restored $file"
