"""The console's meeting view and the secretary's drafts: a meeting's items as the secretary
sees them (drafts included, which the public meeting page leaves out), and a draft poll or
item edited or deleted before anyone has seen it (polls/poll_services.py)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from core.http import acting_user
from meetings import meeting_services
from meetings.models import Meeting
from polls import kinds, poll_services
from polls.models import Poll, PollStatus
from proposals.console import _confirm, _confirmed, _form_page, _posted, secretary_only


def _back(poll: Poll) -> HttpResponseRedirect:
    """Where the secretary was: the item's meeting, or the console for a public poll."""
    if poll.meeting_id is not None:
        return redirect("console:meeting", meeting_id=poll.meeting_id)
    return redirect("console:home")


@require_http_methods(["GET"])
@secretary_only
def meeting_view(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting.objects.select_related("register"), pk=meeting_id)
    items = list(meeting.items.order_by("id"))
    context = {
        "meeting": meeting,
        "items": items,
        "frozen": meeting_services.meeting_frozen(meeting=meeting),
        "PollStatus": PollStatus,
    }
    return render(request, "console/meeting.html", context)


@require_http_methods(["GET", "POST"])
@secretary_only
def poll_edit(request: HttpRequest, poll_id: int) -> HttpResponse:
    poll = get_object_or_404(Poll, pk=poll_id)
    if poll.status != PollStatus.DRAFT:
        messages.error(request, _("Only a draft can be edited here; this poll is no longer a draft."))
        return _back(poll)
    form = kinds.form_of(poll).draft_form(poll, _posted(request))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            poll = poll_services.poll_draft_update(poll=poll, actor=acting_user(request), **data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The draft “%(title)s” is saved.") % {"title": poll.title})
            return _back(poll)
    title = _("Edit the draft %(title)s") % {"title": poll.title}
    return _form_page(request, form, title=title, submit=_("Save the draft"))


@require_POST
@secretary_only
def poll_delete(request: HttpRequest, poll_id: int) -> HttpResponse:
    poll = get_object_or_404(Poll, pk=poll_id)
    if not _confirmed(request):
        consequence = _("The draft “%(title)s” and its options are deleted; the deletion stays on the trail.")
        return _confirm(
            request, heading=_("Delete the draft"), consequence=consequence % {"title": poll.title}, keep={}
        )
    try:
        poll_services.poll_delete(poll=poll, actor=acting_user(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The draft “%(title)s” is deleted.") % {"title": poll.title})
    return _back(poll)
