"""The site shell: the home dashboard that gathers every app's news for the reader, health,
error pages and the language switch."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language

from meetings import selectors as meeting_selectors
from polls import selectors, services
from polls.models import RecordedPoll
from proposals import selectors as proposal_selectors


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The home page: what waits for the reader (ballots, reviews, their proposals), then
    everything public."""
    context = {
        "listing": selectors.poll_listing(user=request.user),
        "meetings": meeting_selectors.meetings_recent(),
        "recorded_polls": RecordedPoll.objects.order_by("-created_at")[:10],
        "pending": meeting_selectors.pending_ballots(user=request.user),
        "my_proposals": proposal_selectors.proposals_of(request.user),
        "review_queue": proposal_selectors.review_queue(request.user),
        "recusals": proposal_selectors.recusals_of(request.user),
    }
    return render(request, "home.html", context)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Reachability of what the app needs: 200 when all answer, 503 naming what does not."""
    from config.celery import app as celery_app

    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure means unhealthy, reported by name
        checks["database"] = f"error: {error.__class__.__name__}"
    if settings.CELERY_TASK_ALWAYS_EAGER:
        checks["broker"] = "eager (no broker configured)"
    else:
        try:
            with celery_app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception as error:  # noqa: BLE001
            checks["broker"] = f"error: {error.__class__.__name__}"
    healthy = all(value == "ok" or value.startswith("eager") for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 in the site's layout, or as JSON under the API, whatever URL was asked for."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    return render(request, "500.html", status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form (an expired page, cookies off) explained in the site's layout; the API
    keeps answering JSON."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("CSRF check failed: %(reason)s") % {"reason": reason}}, status=403)
    return render(request, "403_csrf.html", {"reason": reason}, status=403)


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Django's switcher (cookie and redirect), and for a signed-in reader the choice is kept
    on their profile so e-mails reach them in it too."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        services.profile_language_set(actor=request.user, language=language)
    return response
