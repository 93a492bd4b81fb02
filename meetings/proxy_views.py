"""The proxy's page: every holder it represents at a meeting voted at once, with the common
choices, per-holder exceptions and each directed holder's instructions (meetings.proxy_ballot)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from core.errors import DomainError
from core.http import acting_user
from meetings.ballot_selectors import BallotItem
from meetings.models import Meeting
from meetings.proxy_ballot import HolderBallot, ProxyBallotRefused, proxy_ballot_cast
from meetings.proxy_forms import CommonChoicesForm, ProxyDeskForm
from meetings.proxy_selectors import ProxyDesk, proxy_desk


def _on_page(desk: ProxyDesk) -> tuple[list[BallotItem], list[BallotItem]]:
    """The items voted on this page, and the cumulative elections, voted holder by holder
    (each holder has its own number of votes to spread)."""
    voted = [data for data in desk.items if not (data.terms is not None and data.terms.cumulative)]
    return voted, [data for data in desk.items if data not in voted]


def _forms(desk: ProxyDesk, data: Any = None) -> tuple[CommonChoicesForm, ProxyDeskForm]:
    items, _cumulative = _on_page(desk)
    shares = max((row.holder.shares for row in desk.holders), default=0)
    return (
        CommonChoicesForm(data, items=items, shares=shares),
        ProxyDeskForm(data, desk=desk, items=items),
    )


def _recorded(request: HttpRequest, reports: list[HolderBallot]) -> None:
    voted = [report for report in reports if report.cast]
    ballots = sum(len(report.cast) for report in voted)
    messages.success(
        request,
        ngettext(
            "Recorded %(ballots)d ballot for %(holders)d holder.",
            "Recorded %(ballots)d ballots for %(holders)d holders.",
            ballots,
        )
        % {"ballots": ballots, "holders": len(voted)},
    )
    for report in voted:
        codes = ", ".join(report.receipts().values())
        messages.info(
            request, _("%(holder)s: receipt codes %(codes)s.") % {"holder": report.holder.name, "codes": codes}
        )
    left = sum(len(report.skipped) for report in reports)
    if left:
        messages.info(
            request,
            ngettext(
                "%(count)d item was left alone: the holder voted it themselves, or gave no instruction and no "
                "discretion.",
                "%(count)d items were left alone: the holders voted them themselves, or gave no instruction and no "
                "discretion.",
                left,
            )
            % {"count": left},
        )


def _page(
    request: HttpRequest, desk: ProxyDesk, forms: tuple[CommonChoicesForm, ProxyDeskForm], status: int = 200
) -> HttpResponse:
    common, choices = forms
    context = {
        "meeting": desk.meeting,
        "desk": desk,
        "common": common,
        "desk_form": choices,
        "cumulative": _on_page(desk)[1],
    }
    return render(request, "meetings/proxy_ballot.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def proxy_ballot(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting.objects.select_related("register"), pk=meeting_id)
    desk = proxy_desk(meeting=meeting, user=request.user)
    if request.method == "GET" or not desk.holders:
        return _page(request, desk, _forms(desk))
    common, choices = _forms(desk, request.POST)
    if common.is_valid() and choices.is_valid():
        try:
            reports = proxy_ballot_cast(
                meeting=meeting,
                actor=acting_user(request),
                choices=common.choices(),
                holders=choices.holders(),
                exceptions=choices.exceptions(),
            )
        except ProxyBallotRefused as refusal:
            for holder, errors in refusal.refused.items():
                for error in errors.values():
                    choices.add_error(None, f"{holder.name}: {error.message}")
        except DomainError as error:
            choices.add_error(None, error.message)
        else:
            _recorded(request, reports)
            return redirect("meetings:proxy-ballot", meeting_id=meeting.pk)
    return _page(request, desk, (common, choices), status=400)
