from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language

from polls import proxies, receipt_mail, receipts, selectors, services
from polls.csv_safe import SafeDictWriter
from polls.exceptions import PollError, PollNotOpen
from polls.forms import MeetingBallotForm, ProxyForm, VoteForm
from polls.models import Ballot, Holder, Meeting, Poll, ProxyAppointment, RecordedPoll
from polls.permissions import can_see_results, can_view_poll, is_secretary
from proposals import selectors as proposal_selectors


def _visible_poll(request: HttpRequest, poll_id: int) -> Poll:
    poll = get_object_or_404(Poll, pk=poll_id)
    if not can_view_poll(request.user, poll):
        raise Http404("No such poll.")
    return poll


@require_GET
def poll_list(request: HttpRequest) -> HttpResponse:
    """The home page: what waits for the reader (ballots, reviews, their proposals), then
    everything public."""
    context = {
        "listing": selectors.poll_listing(user=request.user),
        "meetings": selectors.meetings_recent(),
        "recorded_polls": RecordedPoll.objects.order_by("-created_at")[:10],
        "pending": selectors.pending_ballots(user=request.user),
        "my_proposals": proposal_selectors.proposals_of(request.user),
        "review_queue": proposal_selectors.review_queue(request.user),
        "recusals": proposal_selectors.recusals_of(request.user),
    }
    return render(request, "polls/poll_list.html", context)


@require_GET
def poll_detail(request: HttpRequest, poll_id: int) -> HttpResponse:
    poll = _visible_poll(request, poll_id)
    ballot = selectors.ballot_of(poll=poll, user=request.user)
    form = VoteForm(poll=poll, initial={"option": ballot.option_id if ballot else None})
    return _render_detail(request, poll, form, ballot)


def _render_detail(request: HttpRequest, poll: Poll, form: VoteForm, ballot: object, status: int = 200) -> HttpResponse:
    receipt = (
        receipts.ballot_receipt(poll_id=poll.pk, holder_id=None, voter_id=request.user.pk)
        if isinstance(ballot, Ballot) and ballot.holder_id is None
        else ""
    )
    context = {
        "poll": poll,
        "form": form,
        "ballot": ballot,
        "receipt": receipt,
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
            code = {"code": receipts.receipt_code(result.link_hash)}
            if result.created:
                messages.success(request, _("Your vote has been recorded. Your receipt code is %(code)s.") % code)
            elif result.changed:
                messages.success(request, _("Your vote has been changed. Your new receipt code is %(code)s.") % code)
            else:
                messages.info(request, _("Your vote is unchanged. Your receipt code is still %(code)s.") % code)
            if result.created or result.changed:
                receipt_mail.ballot_receipts_mail(user=request.user, link_hashes=[result.link_hash])
            return redirect("polls:detail", poll_id=poll.pk)
    ballot = selectors.ballot_of(poll=poll, user=request.user)
    return _render_detail(request, poll, form, ballot, status=400)


@require_POST
@login_required
def poll_withdraw(request: HttpRequest, poll_id: int) -> HttpResponse:
    poll = _visible_poll(request, poll_id)
    if request.POST.get("confirmed") != "yes":
        # Withdrawing cannot be undone (a new vote is a new ballot): a second step, without JavaScript.
        context = {
            "heading": _("Withdraw my vote"),
            "consequence": _("Your ballot in “%(title)s” is withdrawn and no longer counted.") % {"title": poll.title},
            "keep": {},
            "action_url": request.path,
            "back_url": reverse("polls:detail", kwargs={"poll_id": poll.pk}),
            "back_label": _("Back to the poll"),
        }
        return render(request, "confirm.html", context)
    try:
        services.ballot_withdraw(poll_id=poll.pk, voter=request.user)  # type: ignore[arg-type]
    except PollError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your vote has been withdrawn."))
    return redirect("polls:detail", poll_id=poll.pk)


@require_GET
def poll_results(request: HttpRequest, poll_id: int) -> HttpResponse:
    poll = _visible_poll(request, poll_id)
    if not can_see_results(user=request.user, poll=poll):
        messages.info(
            request,
            _("Results of this poll are shown %(when)s.") % {"when": poll.get_results_visibility_display().lower()},
        )
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


# --- Meetings -------------------------------------------------------------------------------


def _meeting_context(
    request: HttpRequest, meeting: Meeting, holder: Holder | None, form: MeetingBallotForm | None
) -> dict[str, Any]:
    user = request.user
    represented = selectors.holders_represented(user=user, meeting=meeting)
    own = [h for h in represented if h.user_id == user.pk]
    proxies = (
        ProxyAppointment.objects.filter(meeting=meeting, holder__in=own, revoked_at__isnull=True).select_related(
            "holder", "proxy"
        )
        if own
        else []
    )
    items = selectors.meeting_items(meeting)
    return {
        "meeting": meeting,
        "items": items,
        "represented": represented,
        "holder": holder,
        "holder_receipts": receipts.holder_receipts(items=items, holder_id=holder.pk) if holder else [],
        "form": form,
        "own_holders": own,
        "proxies": proxies,
        "proxy_form": ProxyForm(holders=own) if own else None,
    }


def _ballot_form(meeting: Meeting, holder: Holder, data: Any = None) -> MeetingBallotForm:
    items = [item for item in selectors.meeting_items(meeting) if item.is_open]
    current = dict(
        Ballot.objects.filter(poll__in=items, holder=holder, option__isnull=False).values_list(
            "poll_id", "option__code"
        )
    )
    return MeetingBallotForm(data, items=items, initial_choices=current)


def _chosen_holder(request: HttpRequest, meeting: Meeting, raw: str | None) -> Holder | None:
    represented = selectors.holders_represented(user=request.user, meeting=meeting)
    if raw:
        return next((h for h in represented if str(h.pk) == raw), None)
    return represented[0] if len(represented) == 1 else None


@require_GET
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting.objects.select_related("register"), pk=meeting_id)
    holder = _chosen_holder(request, meeting, request.GET.get("holder"))
    form = _ballot_form(meeting, holder) if holder else None
    return render(request, "polls/meeting_detail.html", _meeting_context(request, meeting, holder, form))


@require_POST
@login_required
def meeting_ballot(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting.objects.select_related("register"), pk=meeting_id)
    holder = _chosen_holder(request, meeting, request.POST.get("holder"))
    if holder is None:
        messages.error(request, _("You may not vote for that holder at this meeting."))
        return redirect("polls:meeting", meeting_id=meeting.pk)
    form = _ballot_form(meeting, holder, request.POST)
    if form.is_valid():
        choices = form.choices()
        if not choices:
            form.add_error(None, _("Choose for, against or abstain on at least one item."))
        # The page's ballot is one act: if any item refuses, none of them is recorded.
        link_hashes = []
        with transaction.atomic():
            for item_id, choice in choices.items():
                try:
                    result = services.item_ballot_cast(
                        poll_id=item_id,
                        voter=request.user,  # type: ignore[arg-type]
                        choice=choice,
                        holder_id=holder.pk,
                    )
                except PollError as error:
                    form.add_error(f"item-{item_id}", error.message)
                else:
                    link_hashes.append(result.link_hash)
            if form.errors:
                transaction.set_rollback(True)
            else:
                receipt_mail.ballot_receipts_mail(user=request.user, link_hashes=link_hashes)
        if not form.errors:
            messages.success(
                request,
                ngettext(
                    "Your ballot for %(holder)s (%(shares)s shares) on %(count)d item is recorded.",
                    "Your ballot for %(holder)s (%(shares)s shares) on %(count)d items is recorded.",
                    len(choices),
                )
                % {
                    "holder": holder.name,
                    "shares": number_format(holder.shares, force_grouping=True),
                    "count": len(choices),
                },
            )
            messages.info(
                request,
                ngettext("Receipt code: %(codes)s.", "Receipt codes, one per item: %(codes)s.", len(link_hashes))
                % {"codes": ", ".join(receipts.receipt_code(link) for link in link_hashes)},
            )
            return redirect(f"{reverse('polls:meeting', kwargs={'meeting_id': meeting.pk})}?holder={holder.pk}")
    context = _meeting_context(request, meeting, holder, form)
    return render(request, "polls/meeting_detail.html", context, status=400)


@require_POST
@login_required
def meeting_proxy_appoint(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    own = [h for h in selectors.holders_represented(user=request.user, meeting=meeting) if h.user_id == request.user.pk]
    form = ProxyForm(request.POST, holders=own)
    if form.is_valid():
        try:
            named = proxies.proxy_name(
                meeting=meeting,
                holder=form.cleaned_data["holder"],
                proxy=form.cleaned_data["proxy"],
                appointed_by=request.user,  # type: ignore[arg-type]
            )
        except PollError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, named.message)
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
    return redirect("polls:meeting", meeting_id=meeting.pk)


@require_POST
@login_required
def meeting_proxy_revoke(request: HttpRequest, meeting_id: int, proxy_id: int) -> HttpResponse:
    appointments = ProxyAppointment.objects.filter(pk=proxy_id, meeting_id=meeting_id)
    if not is_secretary(request.user):
        # Only the holder's own appointments are found: someone else's id answers like an unknown one.
        appointments = appointments.filter(holder__user=request.user)  # type: ignore[misc]
    appointment = get_object_or_404(appointments)
    try:
        services.proxy_revoke(appointment=appointment, revoked_by=request.user)  # type: ignore[arg-type]
    except PollError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The proxy is revoked."))
    return redirect("polls:meeting", meeting_id=meeting_id)


@require_GET
def meeting_results_csv(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}-8k-item-5.07.csv"'
    columns = ["Proposal", "For", "Against", "Abstain", "Broker Non-Votes", "Standard", "Result", "Advisory"]
    writer = SafeDictWriter(response, fieldnames=columns)
    writer.writeheader()
    writer.writerows(selectors.meeting_8k_rows(meeting))
    return response


# --- Polls held elsewhere ---------------------------------------------------------------------


@require_GET
def recorded_detail(request: HttpRequest, recorded_id: int) -> HttpResponse:
    recorded = get_object_or_404(RecordedPoll, pk=recorded_id)
    context = {
        "recorded": recorded,
        "snapshots": list(recorded.snapshots.order_by("taken_at")),
        "chart": selectors.recorded_history_chart(recorded),
    }
    return render(request, "polls/recorded_detail.html", context)


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
        services.profile_language_set(user=request.user, language=language)
    return response
