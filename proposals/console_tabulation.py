"""The inspector's tabulation in the console: a proposal's three numbers (console.tabulation_enter,
unchanged), or an election's figures per nominee and choice and a frequency or choice item's per
option, asked of the item's ballot form and recorded through it as the API does."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.http import acting_user
from meetings.tabulation_forms import LinesTabulationForm, takes_lines
from polls import refusals
from polls.models import Poll, PollStatus
from proposals import console
from proposals.console import _posted, secretary_only


@require_http_methods(["GET", "POST"])
@secretary_only
def tabulation_enter(request: HttpRequest, poll_id: int) -> HttpResponse:
    item = get_object_or_404(Poll.objects.filter(meeting__isnull=False), pk=poll_id)
    if not takes_lines(item):
        return console.tabulation_enter(request, poll_id)
    form = LinesTabulationForm(_posted(request), poll=item)
    if request.method == "POST" and form.is_valid() and form.record(actor=acting_user(request)) is not None:
        messages.success(request, _("The tabulation of “%(title)s” is recorded.") % {"title": item.title})
        return redirect("console:poll-certify", poll_id=item.pk)
    lead = _("The official totals replace the ballots' totals in the result until it is certified.")
    if item.effective_status() != PollStatus.CLOSED:
        lead = str(refusals.TABULATION_BEFORE_CLOSE)  # say so before the secretary types anything
    context = {
        "form": form,
        "title": _("Inspector's tabulation: %(title)s") % {"title": item.title},
        "lead": lead,
        "submit": _("Record the tabulation"),
    }
    return render(request, "console/tabulation_lines.html", context, status=400 if form.is_bound else 200)
