"""The secretary's outbox in the console: every notification of core's outbox (proposals,
meeting notices and reminders, ballot confirmations), whether it was sent, is pending or
failed, with the e-mail as its recipient reads it; a failed one can be sent again."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.http import acting_user
from core.models import Notification, NotificationStatus
from core.notifications import RenderedNotification, notification_render, notification_resend
from core.selectors import notification_counts, notifications_by_status
from proposals.console import secretary_only

PAGE_SIZE = 25


@dataclass(frozen=True)
class OutboxRow:
    notification: Notification
    preview: RenderedNotification | None
    problem: str

    @property
    def status_label(self) -> str:
        return str(NotificationStatus(self.notification.status).label)


def _row(notification: Notification) -> OutboxRow:
    """The e-mail as it is sent. One that cannot be rendered (its kind unknown, what it is
    about deleted) is shown with the reason, which is also why it fails."""
    try:
        return OutboxRow(notification, notification_render(notification), "")
    except Exception as error:  # noqa: BLE001 - any failure to render is the preview's answer, not a 500
        return OutboxRow(notification, None, f"{type(error).__name__}: {error}")


def _status_asked(request: HttpRequest) -> str | None:
    """The status filter: empty for all; None when it names no status."""
    status = request.GET.get("status", "") or request.POST.get("status", "")
    return status if status in ("", *NotificationStatus.values) else None


def _filters() -> list[tuple[str, str, int]]:
    """Each status the outbox can show (value, label, how many), all first."""
    counts = notification_counts()
    statuses = [(str(value), str(label), counts[value]) for value, label in NotificationStatus.choices]
    return [("", _("all"), counts["all"]), *statuses]


def _outbox_url(status: str) -> str:
    return reverse("console:outbox") + (f"?{urlencode({'status': status})}" if status else "")


@require_http_methods(["GET"])
@secretary_only
def outbox(request: HttpRequest) -> HttpResponse:
    status = _status_asked(request)
    if status is None:
        messages.error(request, _("Unknown status: show all, sent, pending or failed notifications."))
        return render(request, "console/outbox.html", {"rows": [], "filters": _filters()}, status=400)
    page = Paginator(notifications_by_status(status), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "rows": [_row(notification) for notification in page],
        "page": page,
        "status": status,
        "filters": _filters(),
        "max_attempts": Notification.MAX_ATTEMPTS,
    }
    return render(request, "console/outbox.html", context)


@require_POST
@secretary_only
def outbox_resend(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification = get_object_or_404(Notification, pk=notification_id)
    if notification_resend(notification=notification, actor=acting_user(request)):
        messages.success(
            request, _("The notification to %(recipient)s is queued again.") % {"recipient": notification.recipient}
        )
    else:
        notification.refresh_from_db()
        messages.error(
            request,
            _("Only a failed notification can be sent again; this one is %(status)s.")
            % {"status": NotificationStatus(notification.status).label},
        )
    return redirect(_outbox_url(_status_asked(request) or ""))
