"""A meeting's page: its items, the ballot for the holders the reader represents, proxies and
the results export."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError
from core.http import acting_user
from core.roles import is_secretary
from meetings import ballot_selectors, item_507, proxies, proxy_selectors, selectors, services
from meetings.attendance import attendance_summary
from meetings.attendance_models import Attendance
from meetings.forms import MeetingBallotForm
from meetings.models import Holder, Meeting, ProxyAppointment
from meetings.proxy_forms import ProxyForm
from polls import receipts
from polls.models import Poll, PollStatus


def _meeting_context(
    request: HttpRequest, meeting: Meeting, holder: Holder | None, form: MeetingBallotForm | None
) -> dict[str, Any]:
    user = request.user
    represented = selectors.holders_represented(user=user, meeting=meeting)
    own = [h for h in represented if h.user_id == user.pk]
    proxies = (
        ProxyAppointment.objects.filter(meeting=meeting, holder__in=own, revoked_at__isnull=True)
        .select_related("holder", "proxy")
        .prefetch_related("instructions__item")
        if own
        else []
    )
    items = selectors.meeting_items(meeting)
    return {
        **_proxy_context(request, meeting, holder, items, own),
        "meeting": meeting,
        "attendance": attendance_summary(meeting),
        "holder_present": holder is not None and Attendance.objects.filter(meeting=meeting, holder=holder).exists(),
        "items": items,
        "represented": represented,
        "holder": holder,
        "holder_receipts": receipts.holder_receipts(items=items, holder_id=holder.pk) if holder else [],
        "form": form,
        "own_holders": own,
        "proxies": proxies,
    }


def _proxy_context(
    request: HttpRequest, meeting: Meeting, holder: Holder | None, items: list[Poll], own: list[Holder]
) -> dict[str, Any]:
    """The proxies' part of the page: the appointment form with an instruction per item still
    to be voted (and the board's word on it), who cast the shown holder's ballots and when, and
    the way to the page where a proxy votes all its holders at once."""
    to_vote = [item for item in items if item.effective_status() in (PollStatus.SCHEDULED, PollStatus.OPEN)]
    held = ProxyAppointment.objects.filter(meeting=meeting, proxy_id=request.user.pk, revoked_at__isnull=True)
    return {
        "proxy_form": ProxyForm(holders=own, items=ballot_selectors.ballot_items(items=to_vote, holder_id=0))
        if own
        else None,
        "casters": proxy_selectors.ballot_casters(items=items, holder=holder) if holder else [],
        "proxies_held": held.count() if request.user.is_authenticated else 0,
        "proxy_cutoff": meeting.proxy_cutoff_at,
    }


def _ballot_form(meeting: Meeting, holder: Holder, reader: Any, data: Any = None) -> MeetingBallotForm:
    items = [item for item in selectors.meeting_items(meeting) if item.is_open]
    # A proxy sees the ballots it cast, not how the holder voted (the casters say who voted).
    cast_by = None if holder.user_id == reader.pk else reader.pk
    ballot = ballot_selectors.ballot_items(items=items, holder_id=holder.pk, cast_by=cast_by)
    return MeetingBallotForm(data, items=ballot, shares=holder.shares)


def _chosen_holder(request: HttpRequest, meeting: Meeting, raw: str | None) -> Holder | None:
    represented = selectors.holders_represented(user=request.user, meeting=meeting)
    if raw:
        return next((h for h in represented if str(h.pk) == raw), None)
    return represented[0] if len(represented) == 1 else None


@require_GET
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting.objects.select_related("register"), pk=meeting_id)
    holder = _chosen_holder(request, meeting, request.GET.get("holder"))
    form = _ballot_form(meeting, holder, request.user) if holder else None
    return render(request, "meetings/meeting_detail.html", _meeting_context(request, meeting, holder, form))


def _ballot_recorded(request: HttpRequest, holder: Holder, link_hashes: list[str]) -> None:
    messages.success(
        request,
        ngettext(
            "Your ballot for %(holder)s (%(shares)s shares) on %(count)d item is recorded.",
            "Your ballot for %(holder)s (%(shares)s shares) on %(count)d items is recorded.",
            len(link_hashes),
        )
        % {
            "holder": holder.name,
            "shares": number_format(holder.shares, force_grouping=True),
            "count": len(link_hashes),
        },
    )
    messages.info(
        request,
        ngettext("Receipt code: %(codes)s.", "Receipt codes, one per item: %(codes)s.", len(link_hashes))
        % {"codes": ", ".join(receipts.receipt_code(link) for link in link_hashes)},
    )


@require_POST
@login_required
def meeting_ballot(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting.objects.select_related("register"), pk=meeting_id)
    holder = _chosen_holder(request, meeting, request.POST.get("holder"))
    if holder is None:
        messages.error(request, _("You may not vote for that holder at this meeting."))
        return redirect("meetings:meeting", meeting_id=meeting.pk)
    form = _ballot_form(meeting, holder, request.user, request.POST)
    if form.is_valid():
        choices = form.choices()
        try:
            # The page's ballot is one act: if any item refuses, none of them is recorded.
            cast = services.meeting_ballot_cast(
                meeting=meeting,
                actor=acting_user(request),
                holder_id=holder.pk,
                choices=choices,
            )
        except services.MeetingBallotRefused as refusal:
            for item_id, error in refusal.refused.items():
                form.add_item_error(item_id, error.message)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            _ballot_recorded(request, holder, [result.link_hash for result in cast])
            return redirect(f"{reverse('meetings:meeting', kwargs={'meeting_id': meeting.pk})}?holder={holder.pk}")
    context = _meeting_context(request, meeting, holder, form)
    return render(request, "meetings/meeting_detail.html", context, status=400)


@require_POST
@login_required
def meeting_proxy_appoint(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    own = [h for h in selectors.holders_represented(user=request.user, meeting=meeting) if h.user_id == request.user.pk]
    items = [item for item in selectors.meeting_items(meeting) if item.effective_status() != PollStatus.CERTIFIED]
    form = ProxyForm(request.POST, holders=own, items=ballot_selectors.ballot_items(items=items, holder_id=0))
    if form.is_valid():
        try:
            named = proxies.proxy_name(
                meeting=meeting,
                holder=form.cleaned_data["holder"],
                proxy=form.cleaned_data["proxy"],
                actor=acting_user(request),
                instructions=form.instructions(),
                discretionary=form.discretionary,
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, named.message)
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
    return redirect("meetings:meeting", meeting_id=meeting.pk)


@require_POST
@login_required
def meeting_proxy_revoke(request: HttpRequest, meeting_id: int, proxy_id: int) -> HttpResponse:
    appointments = ProxyAppointment.objects.filter(pk=proxy_id, meeting_id=meeting_id)
    if not is_secretary(request.user):
        # Only the holder's own appointments are found: someone else's id answers like an unknown one.
        appointments = appointments.filter(holder__user=request.user)  # type: ignore[misc]
    appointment = get_object_or_404(appointments)
    try:
        services.proxy_revoke(appointment=appointment, actor=acting_user(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The proxy is revoked."))
    return redirect("meetings:meeting", meeting_id=meeting_id)


@require_GET
def meeting_results_csv(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}-8k-item-5.07.csv"'
    item_507.csv_write(response, meeting)
    return response
