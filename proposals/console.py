"""The company secretary's console: everything that waits for them on one page, and the work
behind it: opening, closing and certifying polls (the recount shown first), new polls, meetings
and items, the inspector's tabulation, follow-ups, and register import."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from core.http import acting_user
from core.roles import is_secretary
from meetings import meeting_services
from meetings.forms import ItemCreateForm, MeetingCreateForm, MeetingEditForm, RegisterImportForm, TabulationForm
from meetings.import_jobs import register_import_queue, register_imports_active
from meetings.models import Meeting, RegisterSnapshot
from meetings.selectors import meetings_recent
from meetings.services import tabulation_record
from polls import certification, disclosure, refusals
from polls import selectors as poll_selectors
from polls import services as poll_services
from polls.forms import PollCreateForm
from polls.models import Poll, PollStatus
from polls.permissions import can_see_results
from proposals import selectors, services
from proposals.exceptions import FollowUpNotFound

View = Callable[..., HttpResponse]


def secretary_only(view: View) -> View:
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_secretary(request.user):
            raise PermissionDenied(_("Only the company secretary may use the console."))
        return view(request, *args, **kwargs)

    return login_required(guarded)


def _console(request: HttpRequest, import_form: RegisterImportForm, status: int = 200) -> HttpResponse:
    context = {
        "proposals": selectors.secretary_queue(),
        "polls": poll_selectors.secretary_poll_queue(),
        "follow_ups": selectors.follow_ups_due(),
        "registers": RegisterSnapshot.objects.order_by("-imported_at")[:5],
        "imports": register_imports_active(),
        "meetings": meetings_recent(limit=5),
        "import_form": import_form,
        "PollStatus": PollStatus,
    }
    return render(request, "console/home.html", context, status=status)


@require_http_methods(["GET"])
@secretary_only
def console_home(request: HttpRequest) -> HttpResponse:
    return _console(request, RegisterImportForm())


@require_POST
@secretary_only
def register_import(request: HttpRequest) -> HttpResponse:
    """Store the file and queue its import: the answer is at once the import's own page,
    which shows the worker's progress (proposals/console_imports.py)."""
    form = RegisterImportForm(request.POST, request.FILES)
    if form.is_valid():
        job = register_import_queue(
            upload=form.cleaned_data["file"],
            record_date=form.cleaned_data["record_date"],
            shares_outstanding=form.cleaned_data["shares_outstanding"],
            actor=acting_user(request),
        )
        return redirect("console:register-import-progress", job_id=job.pk)
    return _console(request, form, status=400)


# What the console's buttons do to a poll, and what it says when they worked.
POLL_ACTIONS: dict[str, tuple[Callable[..., Poll], str]] = {
    "open": (poll_services.poll_open, gettext_noop("“%(title)s” is open.")),
    "close": (poll_services.poll_close, gettext_noop("“%(title)s” is closed.")),
}


# What each one-click action cannot take back, said on its confirmation page.
POLL_CONSEQUENCES = {
    "open": (
        gettext_noop("Open now"),
        gettext_noop("“%(title)s” opens now: voting starts at once and cannot be taken back to scheduled."),
    ),
    "close": (
        gettext_noop("Close now"),
        gettext_noop("“%(title)s” closes now: no ballot is accepted from then on, and a closed poll cannot reopen."),
    ),
}


def _confirm(request: HttpRequest, *, heading: str, consequence: str, keep: dict[str, str]) -> HttpResponse:
    """The second step of an action that cannot be undone, without JavaScript: what it does,
    and a button that posts the same request again, confirmed."""
    context = {
        "heading": heading,
        "consequence": consequence,
        "keep": keep,
        "action_url": request.path,
        "back_url": reverse("console:home"),
        "back_label": _("Back to the console"),
    }
    return render(request, "confirm.html", context)


def _confirmed(request: HttpRequest) -> bool:
    return request.POST.get("confirmed") == "yes"


@require_POST
@secretary_only
def poll_act(request: HttpRequest, poll_id: int, action: str) -> HttpResponse:
    poll = get_object_or_404(Poll, pk=poll_id)
    if not _confirmed(request):
        label, consequence = POLL_CONSEQUENCES[action]
        return _confirm(request, heading=_(label), consequence=_(consequence) % {"title": poll.title}, keep={})
    act, done = POLL_ACTIONS[action]
    try:
        act(poll=poll, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _(done) % {"title": poll.title})
    return redirect("console:home")


@require_POST
@secretary_only
def follow_up_done(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    pending = None if _confirmed(request) else selectors.follow_up_open(follow_up_id)
    if pending is not None:
        return _confirm(
            request,
            heading=_("Mark done"),
            consequence=_(
                "The follow-up on “%(title)s” is recorded as done on the proposal's audit trail; this cannot be undone."
            )
            % {"title": pending.proposal.title},
            keep={"comment": request.POST.get("comment", "")},
        )
    try:
        follow_up = services.follow_up_complete(
            follow_up_id=follow_up_id,
            actor=acting_user(request),
            comment=request.POST.get("comment", ""),
        )
    except FollowUpNotFound as missing:
        raise Http404(missing.message) from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The follow-up on “%(title)s” is done.") % {"title": follow_up.proposal.title})
    return redirect("console:home")


@require_http_methods(["GET", "POST"])
@secretary_only
def poll_certify(request: HttpRequest, poll_id: int) -> HttpResponse:
    """The recount beside the running totals first, and the inspector's tabulation beside the
    recount with the difference per choice; certifying freezes the result, and certifying
    figures that differ from the ballots needs the secretary's explicit confirmation."""
    poll = get_object_or_404(Poll.objects.select_related("meeting"), pk=poll_id)
    status = 200
    if request.method == "POST":
        try:
            certification.poll_certify(
                poll=poll,
                actor=acting_user(request),
                confirm_difference=request.POST.get("confirm_difference") == "on",
                # The difference the page showed: figures entered again since are not confirmed.
                difference_digest=request.POST.get("difference_digest", ""),
            )
        except DomainError as error:
            messages.error(request, error.message)
            status = error.status_code  # 409: not closed yet, the recount differs, or unconfirmed
        else:
            messages.success(request, _("The result of “%(title)s” is certified.") % {"title": poll.title})
            return redirect("polls:results", poll_id=poll.pk)
        poll.refresh_from_db()
    context: dict[str, Any] = {"poll": poll, "status": poll.effective_status(), "PollStatus": PollStatus}
    if can_see_results(user=request.user, poll=poll):
        recount = certification.poll_recount(poll=poll)
        comparison = certification.tabulation_comparison(poll=poll, recount=recount)
        context.update(
            results_visible=True,
            recount=recount,
            recount_matches=all(line.matches for line in recount),
            results=poll_selectors.poll_results(poll=poll),
            comparison=comparison,
        )
        if comparison is not None and comparison.differs:
            context["confirm_label"] = _(
                "I confirm certifying the inspector's figures despite a difference of %(difference)s."
            ) % {"difference": comparison.difference_text()}
    else:
        # The promise to voters binds the secretary too: turnout only until the results show.
        context.update(results_visible=False, turnout=disclosure.turnout_so_far(poll))
    return render(request, "console/certify.html", context, status=status)


def _posted(request: HttpRequest) -> QueryDict | None:
    """The form's data on a POST, even an empty one (which must fail validation, not look
    like a first visit)."""
    return request.POST if request.method == "POST" else None


def _form_page(request: HttpRequest, form: Form, *, title: str, submit: str, lead: str = "") -> HttpResponse:
    context = {"form": form, "title": title, "submit": submit, "lead": lead}
    return render(request, "console/form.html", context, status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@secretary_only
def poll_new(request: HttpRequest) -> HttpResponse:
    """A public poll, saved as a draft: the console's "Open now" publishes it."""
    form = PollCreateForm(_posted(request), initial={"allow_change": True, "secret": True})
    if request.method == "POST" and form.is_valid():
        try:
            poll = poll_services.poll_create(actor=acting_user(request), **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("“%(title)s” is saved as a draft; open it when ready.") % {"title": poll.title})
            return redirect("console:home")
    return _form_page(request, form, title=_("New poll"), submit=_("Save as draft"))


@require_http_methods(["GET", "POST"])
@secretary_only
def meeting_new(request: HttpRequest) -> HttpResponse:
    form = MeetingCreateForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            meeting = meeting_services.meeting_create(actor=acting_user(request), **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("The meeting “%(title)s” is created; add its items.") % {"title": meeting.title}
            )
            return redirect("console:item-new", meeting_id=meeting.pk)
    return _form_page(request, form, title=_("New meeting"), submit=_("Create the meeting"))


@require_http_methods(["GET", "POST"])
@secretary_only
def meeting_edit(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """A meeting's title and date at any time; its register and quorum until an item opens."""
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    form = MeetingEditForm.for_meeting(meeting, _posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            meeting = meeting_services.meeting_update(meeting=meeting, actor=acting_user(request), **form.changes())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The meeting “%(title)s” is saved.") % {"title": meeting.title})
            return redirect("console:meeting", meeting_id=meeting.pk)
    lead = ""
    if meeting_services.meeting_frozen(meeting=meeting):
        lead = _("Voting has begun: the register and the quorum can no longer change.")
    title = _("Edit %(title)s") % {"title": meeting.title}
    return _form_page(request, form, title=title, submit=_("Save"), lead=lead)


@require_http_methods(["GET", "POST"])
@secretary_only
def item_new(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """An item on a meeting's ballot, saved as a draft like a poll."""
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    form = ItemCreateForm(_posted(request), initial={"allow_change": True, "results_visibility": "after_close"})
    if request.method == "POST" and form.is_valid():
        try:
            item = meeting_services.item_create(meeting=meeting, actor=acting_user(request), **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("“%(title)s” is on the ballot as a draft.") % {"title": item.title})
            return redirect("console:meeting", meeting_id=meeting.pk)
    title = _("New item for %(meeting)s") % {"meeting": meeting.title}
    return _form_page(request, form, title=title, submit=_("Add the item"))


@require_http_methods(["GET", "POST"])
@secretary_only
def tabulation_enter(request: HttpRequest, poll_id: int) -> HttpResponse:
    """The inspector's official totals; they replace the ballots' totals in the result."""
    item = get_object_or_404(Poll.objects.filter(meeting__isnull=False), pk=poll_id)
    form = TabulationForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = {**form.cleaned_data, "broker_non_votes": form.cleaned_data.get("broker_non_votes") or 0}
        try:
            tabulation_record(poll=item, actor=acting_user(request), **data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The tabulation of “%(title)s” is recorded.") % {"title": item.title})
            return redirect("console:poll-certify", poll_id=item.pk)
    title = _("Inspector's tabulation: %(title)s") % {"title": item.title}
    lead = _("The official totals replace the ballots' totals in the result until it is certified.")
    if item.effective_status() != PollStatus.CLOSED:
        lead = str(refusals.TABULATION_BEFORE_CLOSE)  # say so before the secretary types anything
    return _form_page(request, form, title=title, submit=_("Record the tabulation"), lead=lead)
