"""A meeting's printable reports: the Item 5.07 table (Form 8-K) of its certified results, in
the reader's language. Public, like the CSV export it mirrors (meetings.views.meeting_results_csv):
only certified, final figures appear."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from meetings import item_507
from meetings.models import Meeting


@require_GET
def meeting_item_507(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    return render(request, "meetings/item_5_07.html", {"meeting": meeting, "report": item_507.report(meeting)})
