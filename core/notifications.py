"""The outbox: every e-mail the site sends to a person, queued once, sent after commit by the
`core.tasks.send_notification` task, retried by the sweep and, once failed, by the secretary.

Each app registers the kinds it queues (`notification_kind_register`, from its AppConfig.ready):
the templates of the subject line, the plain-text body and the HTML body, and a function
giving what they need from the app's own models (read when the e-mail is rendered, so the
outbox's preview shows what is sent). Core knows no app: a notification names what it is about
as `subject` ("proposal:12", "meeting:3"), which that function reads back."""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.template import Context, TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation

from core.audit import audit_append
from core.models import Notification, Profile
from core.validators import shown

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger("quorum.notifications")

ContextOf = Callable[[Notification], Mapping[str, Any]]


@dataclass(frozen=True)
class NotificationKind:
    """How one kind of notification is written: three templates and the context they read."""

    subject: str
    text: str
    html: str
    context: ContextOf | None = None


@dataclass(frozen=True)
class RenderedNotification:
    subject: str
    text: str
    html: str
    language: str


_KINDS: dict[str, NotificationKind] = {}


def notification_kind_register(
    kind: str, *, subject: str, text: str, html: str, context: ContextOf | None = None
) -> None:
    """Called from an app's ready(). Registering a kind again the same way is harmless; a
    second, different definition is a mistake in the code, found at start-up."""
    definition = NotificationKind(subject=subject, text=text, html=html, context=context)
    if _KINDS.setdefault(kind, definition) != definition:
        raise ImproperlyConfigured(f"Notification kind {kind!r} is registered twice, differently.")


def notification_kind(kind: str) -> NotificationKind:
    """The kind's templates. An unknown kind has none, and fails like a missing template: the
    attempt is counted and the notification ends up failed, in the secretary's outbox."""
    try:
        return _KINDS[kind]
    except KeyError:
        raise TemplateDoesNotExist(f"no e-mail templates are registered for the kind {kind!r}") from None


def subject_id(notification: Notification, noun: str) -> int | None:
    """The id in a subject "noun:id", or None when the notification is about something else."""
    prefix = f"{noun}:"
    if not notification.subject.startswith(prefix):
        return None
    rest = notification.subject[len(prefix) :]
    return int(rest) if rest.isdigit() else None


def recipient_language(notification: Notification) -> str:
    """The worker has no browser to ask: the language the recipient's account chose (the
    account named in the context, else the active account with this address), else the site's."""
    profiles = Profile.objects.filter(user__is_active=True)
    user_id = notification.context.get("user_id")
    if isinstance(user_id, int):
        profiles = profiles.filter(user_id=user_id)
    else:
        profiles = profiles.filter(user__email__iexact=notification.recipient)
    chosen = profiles.order_by("user_id").values_list("language", flat=True).first()
    return chosen or settings.LANGUAGE_CODE


def _render_text(template_name: str, context: dict[str, Any]) -> str:
    """A plain-text part of an e-mail: nothing is HTML-escaped (a title's `"` stays `"`). The
    template answers a string marked safe for HTML, which this text is not: the outbox page
    shows it, escaped, so it is returned as a plain string."""
    template = get_template(template_name).template  # type: ignore[attr-defined]
    return str.__str__(template.render(Context(context, autoescape=False)))


def notification_render(notification: Notification) -> RenderedNotification:
    """The e-mail as its recipient reads it, in their language. The subject is one line of plain
    text: whitespace (a line break in a stored title) is collapsed, so it can never add a
    header or break the message."""
    kind = notification_kind(notification.kind)
    language = recipient_language(notification)
    context: dict[str, Any] = {**notification.context, "notification": notification, "site_url": settings.SITE_URL}
    with translation.override(language):
        if kind.context is not None:
            context.update(kind.context(notification))
        subject = " ".join(_render_text(kind.subject, context).split())
        text = _render_text(kind.text, context)
        html = render_to_string(kind.html, context)
    return RenderedNotification(subject=subject, text=text, html=html, language=language)


@transaction.atomic
def notification_queue(
    *, key: str, kind: str, recipient: str, context: Mapping[str, Any], subject: str = ""
) -> Notification | None:
    """Record one notification (idempotent by `key`) and send it once the transaction commits.
    Returns it when it is new, None when that key was queued before. Neither a lost broker nor
    a failed send turns the committed change into an error: the task records the failure and
    the sweep tries again."""
    from core.publish import send_notification_on_commit

    now = timezone.now()
    fields: dict[str, Any] = {
        "key": key[:200],
        "kind": kind,
        "recipient": recipient,
        "context": dict(context),
        "subject": subject,
    }
    notification_id = _insert_new(**fields, now=now)
    if notification_id is None:
        return None
    send_notification_on_commit(notification_id)
    return Notification(pk=notification_id, created_at=now, **fields)


def _insert_new(
    *, key: str, kind: str, recipient: str, context: Mapping[str, Any], subject: str, now: datetime.datetime
) -> int | None:
    """Insert unless the key exists, in one statement (a ballot's confirmation is queued in the
    ballot's own transaction: get_or_create's lookup and savepoint were three more round trips
    on every vote); the new row's id, or None when the key was queued before."""
    table = Notification._meta.db_table
    as_json = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    sql = (
        f"INSERT INTO {table} (key, kind, subject, recipient, context, created_at, attempts, last_error) "  # noqa: S608 - the model's table
        f"VALUES (%s, %s, %s, %s, {as_json}, %s, 0, '') ON CONFLICT (key) DO NOTHING RETURNING id"
    )
    params: list[str | datetime.datetime] = [
        key,
        kind,
        subject,
        recipient,
        json.dumps(dict(context), cls=DjangoJSONEncoder),
        now,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def notification_message_id(notification: Notification) -> str:
    """The same Message-ID on every attempt. A worker that dies after the mail server accepted
    a message but before `sent_at` committed sends it again when the task is redelivered; with
    one Message-ID that second copy is recognisably the same message, which mail clients and
    providers fold into one, rather than a second notification."""
    host = urlsplit(settings.SITE_URL).hostname or "quorum.invalid"
    return f"<notification.{notification.pk}@{host}>"


@transaction.atomic
def notification_send(*, notification_id: int) -> bool:
    """Send once: the row lock and `sent_at` make a retried or duplicated task a no-op. A
    notification marked failed is not sent again by itself."""
    notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
    if notification is None or notification.sent_at is not None or notification.failed_at is not None:
        return False
    rendered = notification_render(notification)
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        to=[notification.recipient],
        headers={"Message-ID": notification_message_id(notification)},
    )
    message.attach_alternative(rendered.html, "text/html")
    message.send()
    notification.sent_at = timezone.now()
    notification.attempts += 1
    notification.save(update_fields=["sent_at", "attempts"])
    return True


def notification_failure_record(*, notification_id: int, error: BaseException) -> bool:
    """Count a failed attempt, in its own transaction (the attempt's rolled back); the
    `MAX_ATTEMPTS`th marks the notification failed. True when it is now failed."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .filter(pk=notification_id, sent_at__isnull=True, failed_at__isnull=True)
            .first()
        )
        if notification is None:
            return False
        notification.attempts += 1
        notification.last_error = shown(f"{type(error).__name__}: {error}", 490)
        if notification.attempts >= Notification.MAX_ATTEMPTS:
            notification.failed_at = timezone.now()
        notification.save(update_fields=["attempts", "last_error", "failed_at"])
    logger.warning(
        "notification %s: attempt %s failed (%s)%s",
        notification_id,
        notification.attempts,
        notification.last_error,
        "; marked failed" if notification.failed_at else "",
    )
    return notification.failed_at is not None


@transaction.atomic
def notification_retry(*, notification_id: int) -> bool:
    """Send a failed notification again (the address was fixed, the mail server is back): it
    is pending with a fresh count of attempts, and queued after commit. False when it is not
    failed."""
    from core.tasks import send_notification

    reset = Notification.objects.filter(pk=notification_id, failed_at__isnull=False, sent_at__isnull=True).update(
        failed_at=None, attempts=0
    )
    if reset:
        send_notification.delay_on_commit(notification_id)
    return bool(reset)


@transaction.atomic
def notification_resend(*, notification: Notification, actor: User) -> bool:
    """The secretary sends a failed notification again from the outbox: `notification_retry`,
    on the trail under the notification's own stream. False (and nothing recorded) when it is
    not failed, e.g. a second click after the first one's mail went out."""
    locked = Notification.objects.select_for_update().filter(pk=notification.pk).first()
    if locked is None or not notification_retry(notification_id=locked.pk):
        return False
    audit_append(
        stream=f"notification:{locked.pk}",
        action="notification_resent",
        actor=actor,
        # Not the recipient nor the error (which may quote the address): the trail cannot forget.
        payload={"kind": locked.kind, "subject": locked.subject, "attempts": locked.attempts},
    )
    return True


def notification_attempt(*, notification_id: int) -> bool:
    """Try to send one notification; a failure is recorded, never raised, so one bad
    notification cannot stop the others. True when it was sent."""
    try:
        return notification_send(notification_id=notification_id)
    except Exception as error:  # any failure of one notification is recorded and logged
        logger.exception("notification %s could not be sent", notification_id)
        notification_failure_record(notification_id=notification_id, error=error)
        return False


def notifications_resend(*, stale_after: datetime.timedelta, now: datetime.datetime | None = None) -> int:
    """The sweep's part: every pending notification older than `stale_after` (its task was
    lost, or its attempts failed), each on its own. Returns how many were sent."""
    cutoff = (now or timezone.now()) - stale_after
    pending = Notification.objects.filter(sent_at__isnull=True, failed_at__isnull=True, created_at__lte=cutoff)
    return sum(notification_attempt(notification_id=pk) for pk in pending.order_by("pk").values_list("pk", flat=True))
