"""Reads go to the replica only where a little lag cannot be seen (settings: DATABASE_REPLICA_URL).

Results and public pages read the replica. The primary answers everything else: every write;
any read inside transaction.atomic (certification, every service); any read of a request that
has written, or came from a browser that wrote moments ago, or is not a GET (core/db_pinning.py);
any read outside a request (Celery, commands); and reads of the models below, which are an
account's own state: signing in, tokens, lockouts, sessions, a voter's own ballot, proxies,
claims, the audit trail and the outbox. Unset, there is no router and one database.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

from core import db_pinning

REPLICA = "replica"

# Whole apps that hold an account's own state, or that nothing reads on a public page.
PRIMARY_APPS = frozenset(
    {
        "admin",
        "auth",
        "axes",
        "contenttypes",
        "core",
        "django_celery_beat",
        "django_otp",
        "otp_static",
        "otp_totp",
        "sessions",
    }
)
# A voter's own ballot and what decides whose ballot it is.
PRIMARY_MODELS = frozenset(
    {
        "polls.ballot",
        "meetings.ballotline",
        "meetings.claimattempts",
        "meetings.holdercontrol",
        "meetings.proxyappointment",
        "meetings.proxyinstruction",
        "meetings.registerimport",
    }
)


def reads_primary_only(model: type[Model]) -> bool:
    meta = model._meta
    return meta.app_label in PRIMARY_APPS or meta.label_lower in PRIMARY_MODELS


class PrimaryReplicaRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        if (
            db_pinning.replica_allowed()
            and not reads_primary_only(model)
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        db_pinning.wrote()
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        # The replica holds the primary's rows: an object read from either may point at the other.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
