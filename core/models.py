from __future__ import annotations

import datetime
import hashlib
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """An API key, stored only as its digest: a database dump yields no usable token. It expires,
    and it carries a stamp of the password it was issued under, so a password change kills it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    password_stamp = models.CharField(max_length=64)
    # Issued after a second factor was proved: a role that needs one accepts no other token.
    otp_verified = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=F("created_at")), name="api_token_expires_after_created"),
        ]

    def __str__(self) -> str:
        return f"API token of user {self.user_id}, until {self.expires_at:%Y-%m-%d %H:%M}"

    @staticmethod
    def digest_of(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def stamp_of(password_hash: str) -> str:
        # The password hash carries a fresh salt each time it is set, so its digest changes with
        # every password change (and with an unusable password), reset or not.
        return hashlib.sha256(password_hash.encode()).hexdigest()

    def seal(self, password_hash: str) -> str:
        """The `password_stamp` this row must carry: a MAC keyed by SECRET_KEY (outside the
        database) over the row's digest, account, second-factor flag and expiry and the stamp of
        the account's password. Unkeyed, anyone who can write the table could mint a token for
        any account (the digest of a key of their choosing, the stamp of the password hash beside
        it, otp_verified true), or take over a row, and act through the API under that account's
        name, signed on the trail as that account's own acts."""
        expires = self.expires_at.astimezone(datetime.UTC).isoformat() if self.expires_at else ""
        message = f"{self.digest}|{self.user_id}|{int(self.otp_verified)}|{expires}|{self.stamp_of(password_hash)}"
        return salted_hmac("quorum.api-token", message, algorithm="sha256").hexdigest()

    @classmethod
    def sealed(cls, *, user: Any, key: str, otp_verified: bool, created_at: Any, expires_at: Any) -> ApiToken:
        """A new, unsaved token for `user` and `key`, sealed under the account's password."""
        token = cls(
            user=user,
            digest=cls.digest_of(key),
            otp_verified=otp_verified,
            created_at=created_at,
            expires_at=expires_at,
        )
        token.password_stamp = token.seal(user.password)
        return token


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: object) -> int:
        raise PermissionError("Audit events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only.")


class AuditEvent(models.Model):
    """One link in an append-only, hash-chained trail. Each subject (a proposal, a poll, a
    holder's or voter's ballot) has its own chain, so appending never waits on other subjects;
    `hash` covers the previous link and this event's content, so a changed, removed or
    reordered row breaks the chain where it happened."""

    stream = models.CharField(max_length=100)
    seq = models.PositiveIntegerField()
    action = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField()
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64, blank=True)
    # Which AUDIT_KEY signed the link, so after a rotation AUDIT_OLD_KEYS still verifies it.
    key_id = models.CharField(max_length=16, blank=True)
    hash = models.CharField(max_length=64)
    # Where the link was folded into the running root: the shard and its position there.
    root_shard = models.PositiveSmallIntegerField()
    root_n = models.BigIntegerField()

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["stream", "seq"]
        constraints = [
            # Two writers appending to one chain at once: one of them fails instead of forking it.
            models.UniqueConstraint(fields=["stream", "seq"], name="core_audit_one_link_per_position"),
        ]
        # A receipt code is a prefix of a ballot link's hash, looked up as a range on this index
        # (a plain b-tree serves `>=`/`<` on SQLite and on PostgreSQL under any collation).
        indexes = [models.Index(fields=["hash"], name="core_audit_hash_receipt")]

    def __str__(self) -> str:
        return f"{self.stream}#{self.seq} {self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only.")


class AuditHead(models.Model):
    """Each chain's last link, written with it: a removed tail is found; the row orders appends."""

    stream = models.CharField(max_length=100, primary_key=True)
    seq = models.PositiveIntegerField()
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.stream}#{self.seq}"


class AuditRoot(models.Model):
    """A shard of the running root: XOR of its links' keyed shares, and their count (audit.py)."""

    shard = models.PositiveSmallIntegerField(primary_key=True)
    n = models.BigIntegerField(default=0)
    a0 = models.BigIntegerField(default=0)
    a1 = models.BigIntegerField(default=0)
    a2 = models.BigIntegerField(default=0)
    a3 = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"root shard {self.shard} ({self.n} links)"


class Profile(models.Model):
    """What a person chose for themselves. The language follows them into e-mails, which are
    written by a worker with no browser to ask."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    language = models.CharField(max_length=10, choices=settings.LANGUAGES)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(language__in=[code for code, _name in settings.LANGUAGES]),
                name="core_profile_language_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.language})"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class Notification(models.Model):
    """One e-mail to one person about one thing: the outbox every app queues into
    (core/notifications.py). The unique key makes queuing idempotent and `sent_at` makes
    sending so: a retried task finds it sent and stops. Each attempt is counted; after
    `MAX_ATTEMPTS` failed ones `failed_at` is set, the sweep stops retrying and the secretary
    sees it among the failed notifications.

    `subject` names what it is about as "<noun>:<id>" ("proposal:12", "meeting:3"): core
    cannot point a foreign key at a higher app, and the app that registered the kind reads
    its own object back when the e-mail is rendered. The table is the one proposals created
    (core/migrations/0002_notification.py says how it moved)."""

    MAX_ATTEMPTS = 5

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=40)
    subject = models.CharField(max_length=100, blank=True, default="", db_index=True)
    recipient = models.EmailField()
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "proposals_notification"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["sent_at"], name="proposals_n_sent_at_9555b3_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(failed_at__isnull=True),
                name="proposals_notification_sent_or_failed",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient}"

    @property
    def status(self) -> str:
        if self.sent_at is not None:
            return NotificationStatus.SENT
        return NotificationStatus.FAILED if self.failed_at is not None else NotificationStatus.PENDING
