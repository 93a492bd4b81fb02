from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError
from core.http import acting_user
from polls import receipt_mail, receipts, selectors
from polls.ballots import ballot_cast, ballot_withdraw
from polls.exceptions import PollNotOpen
from polls.forms import VoteForm
from polls.models import Ballot, Poll, RecordedPoll
from polls.permissions import can_see_results, can_view_poll


def _visible_poll(request: HttpRequest, poll_id: int) -> Poll:
    poll = get_object_or_404(Poll, pk=poll_id)
    if not can_view_poll(request.user, poll):
        raise Http404("No such poll.")
    return poll


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
            result = ballot_cast(
                poll_id=poll.pk,
                actor=acting_user(request),
                option_id=form.cleaned_data["option"].pk,
            )
        except PollNotOpen as error:
            # The form is gone from the page once voting has ended; say why above it.
            messages.error(request, error.message)
            return redirect("polls:detail", poll_id=poll.pk)
        except DomainError as error:
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
        ballot_withdraw(poll_id=poll.pk, actor=acting_user(request))
    except DomainError as error:
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


# --- Meetings -------------------------------------------------------------------------------


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
