"""Helpers for tests that hand the test database to another process (a worker, gunicorn,
pg_dump)."""

from __future__ import annotations

from django.db import connection


def database_url() -> str:
    """The PostgreSQL test database as a URL another process can connect to."""
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
