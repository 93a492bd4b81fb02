"""The board's pages: a director's review with everything needed to vote, the secretary's
decision at the due date (a confirmation page first), a new due date after a tie, and the
board's quorum setting."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from core.http import acting_user
from core.roles import is_secretary
from polls import selectors as poll_selectors
from polls.permissions import can_see_results
from proposals import board, review_votes, selectors
from proposals.forms import ReviewForm
from proposals.models import QUORUM_BASIS_CHOICES, Recusal
from proposals.permissions import director_of
from proposals.review import forced_verdict
from proposals.views import _visible, _what_the_reader_sees
from proposals.workflow import State


class RescheduleForm(forms.Form):
    due_at = forms.DateTimeField(
        label=gettext_lazy("New due date"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label=gettext_lazy("Comment"))


class BoardSettingsForm(forms.Form):
    quorum_basis = forms.ChoiceField(
        choices=QUORUM_BASIS_CHOICES, widget=forms.RadioSelect, label=gettext_lazy("Board quorum")
    )


def evidence_of(request: HttpRequest, proposal: Any) -> list[dict[str, Any]]:
    """The linked polls, each with its results only where the reader may see them."""
    rows = []
    for poll in proposal.polls.all().order_by("pk"):
        visible = can_see_results(user=request.user, poll=poll)
        rows.append({"poll": poll, "results": poll_selectors.poll_results(poll=poll) if visible else None})
    return rows


def review_context(request: HttpRequest, proposal: Any, form: ReviewForm, conflict: str | None) -> dict[str, Any]:
    seen = _what_the_reader_sees(request, proposal)
    recusals = (
        list(Recusal.objects.filter(proposal=proposal).select_related("director__user", "lifted_by"))
        if seen["deliberation"]
        else []
    )
    return {
        "proposal": proposal,
        "form": form,
        "conflict": conflict,
        "rule": selectors.review_tally(proposal),
        "in_review": proposal.status == State.IN_REVIEW,
        "evidence": evidence_of(request, proposal),
        "recusals": recusals,
        "is_secretary": is_secretary(request.user),
        **seen,
    }


@login_required
def proposal_review(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = _visible(request, proposal_id)
    director = director_of(request.user)
    if director is None:
        raise PermissionDenied("Only directors in office review proposals.")
    conflict = director.recused_from(proposal)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and conflict is None and form.is_valid():
        try:
            review_votes.review_vote_cast(
                proposal_id=proposal.pk,
                actor=acting_user(request),
                decision=form.cleaned_data["decision"],
                comment=form.cleaned_data["comment"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your review vote is recorded."))
            return redirect("proposals:detail", proposal_id=proposal.pk)
    context = review_context(request, proposal, form, conflict)
    return render(request, "proposals/proposal_review.html", context, status=400 if form.errors else 200)


def _secretary(request: HttpRequest) -> None:
    if not is_secretary(request.user):
        raise PermissionDenied(_("Only the company secretary may do this."))


@require_http_methods(["GET"])
@login_required
def proposal_decide(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """The second step before the secretary's decision: what the rule will record, and why
    it cannot be taken yet where that is so. The button posts the transition itself."""
    proposal = _visible(request, proposal_id)
    _secretary(request)
    tally = selectors.review_tally(proposal)
    verdict = forced_verdict(tally)
    refusal = board.decide_refusal(proposal, verdict, request.user) if proposal.status == State.IN_REVIEW else None
    context = {
        "proposal": proposal,
        "tally": tally,
        "verdict": verdict,
        "in_review": proposal.status == State.IN_REVIEW,
        "decide_from": board.decide_possible_at(proposal),
        "refusal": refusal,
        "reschedule_form": RescheduleForm(),
    }
    return render(request, "proposals/decide_confirm.html", context, status=200)


@require_POST
@login_required
def proposal_reschedule(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = _visible(request, proposal_id)
    _secretary(request)
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Set a review due date in the future."))
        return redirect("proposals:decide", proposal_id=proposal.pk)
    try:
        board.review_reschedule(
            proposal_id=proposal.pk,
            actor=acting_user(request),
            due_at=form.cleaned_data["due_at"],
            comment=form.cleaned_data["comment"],
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("proposals:decide", proposal_id=proposal.pk)
    messages.success(request, _("The board has a new due date."))
    return redirect("proposals:detail", proposal_id=proposal.pk)


@require_http_methods(["GET", "POST"])
@login_required
def board_settings(request: HttpRequest) -> HttpResponse:
    _secretary(request)
    form = BoardSettingsForm(request.POST or None, initial={"quorum_basis": selectors.quorum_basis().value})
    if request.method == "POST" and form.is_valid():
        try:
            board.board_settings_update(quorum_basis=form.cleaned_data["quorum_basis"], actor=acting_user(request))
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The board's settings are saved."))
            return redirect("proposals:board-settings")
    return render(request, "proposals/board_settings.html", {"form": form}, status=400 if form.errors else 200)
