from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from polls import selectors, services
from polls.exceptions import PollError, PollNotOpen
from polls.forms import VoteForm
from polls.models import Poll
from polls.permissions import can_see_results, can_view_poll


def _visible_poll(request: HttpRequest, poll_id: int) -> Poll:
    poll = get_object_or_404(Poll, pk=poll_id)
    if not can_view_poll(request.user, poll):
        raise Http404("No such poll.")
    return poll


@require_GET
def poll_list(request: HttpRequest) -> HttpResponse:
    return render(request, "polls/poll_list.html", {"listing": selectors.poll_listing(user=request.user)})


@require_GET
def poll_detail(request: HttpRequest, poll_id: int) -> HttpResponse:
    poll = _visible_poll(request, poll_id)
    ballot = selectors.ballot_of(poll=poll, user=request.user)
    form = VoteForm(poll=poll, initial={"option": ballot.option_id if ballot else None})
    return _render_detail(request, poll, form, ballot)


def _render_detail(request: HttpRequest, poll: Poll, form: VoteForm, ballot: object, status: int = 200) -> HttpResponse:
    context = {
        "poll": poll,
        "form": form,
        "ballot": ballot,
        "status": poll.effective_status(),
        "results_visible": can_see_results(user=request.user, poll=poll),
    }
    return render(request, "polls/poll_detail.html", context, status=status)


@require_POST
@login_required
def poll_vote(request: HttpRequest, poll_id: int) -> HttpResponse:
    poll = _visible_poll(request, poll_id)
    form = VoteForm(request.POST, poll=poll)
    if form.is_valid():
        try:
            result = services.ballot_cast(
                poll_id=poll.pk,
                voter=request.user,  # type: ignore[arg-type]
                option_id=form.cleaned_data["option"].pk,
            )
        except PollNotOpen as error:
            # The form is gone from the page once voting has ended; say why above it.
            messages.error(request, error.message)
            return redirect("polls:detail", poll_id=poll.pk)
        except PollError as error:
            form.add_error("option", error.message)
        else:
            if result.created:
                messages.success(request, "Your vote has been recorded.")
            elif result.changed:
                messages.success(request, "Your vote has been changed.")
            else:
                messages.info(request, "Your vote is unchanged.")
            return redirect("polls:detail", poll_id=poll.pk)
    ballot = selectors.ballot_of(poll=poll, user=request.user)
    return _render_detail(request, poll, form, ballot, status=400)


@require_POST
@login_required
def poll_withdraw(request: HttpRequest, poll_id: int) -> HttpResponse:
    poll = _visible_poll(request, poll_id)
    try:
        services.ballot_withdraw(poll_id=poll.pk, voter=request.user)  # type: ignore[arg-type]
    except PollError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your vote has been withdrawn.")
    return redirect("polls:detail", poll_id=poll.pk)


@require_GET
def poll_results(request: HttpRequest, poll_id: int) -> HttpResponse:
    poll = _visible_poll(request, poll_id)
    if not can_see_results(user=request.user, poll=poll):
        messages.info(request, f"Results of this poll are shown {poll.get_results_visibility_display().lower()}.")
        return redirect("polls:detail", poll_id=poll.pk)
    return render(request, "polls/poll_results.html", {"poll": poll, "results": selectors.poll_results(poll=poll)})


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
