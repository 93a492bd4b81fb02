#!/usr/bin/env bash
# make backup: a consistent copy of the database in backups/ (or $BACKUP_DIR).
# PostgreSQL: pg_dump's custom format. SQLite: SQLite's online backup (safe while serving).
set -euo pipefail
cd "$(dirname "$0")/.."
url="${DATABASE_URL:-sqlite:///$PWD/db.sqlite3}"
dir="${BACKUP_DIR:-backups}"
mkdir -p "$dir"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
case "$url" in
  postgres://* | postgresql://*)
    out="$dir/quorum-$stamp.dump"
    pg_dump --format=custom --no-owner --file "$out" "$url"
    ;;
  sqlite://*)
    out="$dir/quorum-$stamp.sqlite3"
    .venv/bin/python scripts/sqlite_copy.py "${url#sqlite://}" "$out"
    ;;
  *) echo "backup: unsupported DATABASE_URL scheme: ${url%%:*}" >&2; exit 2 ;;
esac
echo "$out"
