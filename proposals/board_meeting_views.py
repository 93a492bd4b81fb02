"""Pages for board meetings: the secretary schedules one with its agenda, records attendance and
the votes taken, drafts and circulates the minutes; directors comment and approve them; the
approved minutes have a printable page. The writes are proposals.board_meetings'."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from core.http import acting_user
from core.roles import is_secretary
from core.validators import no_bidi_overrides, no_control_characters
from proposals import board_meetings
from proposals.models import DECISION_CHOICES, BoardMeeting, Director, MinutesStatus, Proposal
from proposals.workflow import State


class MeetingForm(forms.Form):
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Date and time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    place = forms.CharField(
        label=gettext_lazy("Place"), max_length=200, required=False, validators=[no_control_characters]
    )
    video_link = forms.URLField(label=gettext_lazy("Video link"), required=False, assume_scheme="https")
    agenda = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Agenda"),
        queryset=Proposal.objects.filter(status=State.IN_REVIEW).order_by("title"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class AttendanceForm(forms.Form):
    present = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Present"),
        queryset=Director.objects.filter(in_office=True).select_related("user").order_by("user__username"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class VoteForm(forms.Form):
    proposal = forms.ModelChoiceField(label=gettext_lazy("Proposal"), queryset=Proposal.objects.none())
    director = forms.ModelChoiceField(label=gettext_lazy("Director"), queryset=Director.objects.none())
    decision = forms.ChoiceField(label=gettext_lazy("Decision"), choices=DECISION_CHOICES)
    comment = forms.CharField(label=gettext_lazy("Comment"), required=False, max_length=2000)

    def __init__(self, *args: Any, meeting: BoardMeeting, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field_proposal = self.fields["proposal"]
        field_director = self.fields["director"]
        assert isinstance(field_proposal, forms.ModelChoiceField)  # noqa: S101 - declared above
        assert isinstance(field_director, forms.ModelChoiceField)  # noqa: S101 - declared above
        field_proposal.queryset = meeting.agenda.filter(status=State.IN_REVIEW)
        field_director.queryset = Director.objects.filter(
            in_office=True, board_attendance__meeting=meeting, board_attendance__present=True
        ).select_related("user")


class MinutesForm(forms.Form):
    minutes = forms.CharField(
        label=gettext_lazy("Minutes (Markdown)"), widget=forms.Textarea(attrs={"rows": 12}), required=False
    )


class MinutesCommentForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Your comment"), widget=forms.Textarea(attrs={"rows": 3}), validators=[no_bidi_overrides]
    )


def _board_only(request: HttpRequest) -> None:
    if not board_meetings.can_see_meetings(request.user):
        raise PermissionDenied(_("Board meetings are the board's."))


def _meeting(request: HttpRequest, meeting_id: int) -> BoardMeeting:
    _board_only(request)
    meeting = board_meetings.meetings_visible_to(request.user).filter(pk=meeting_id).first()
    if meeting is None:
        raise Http404
    return meeting


def _detail(request: HttpRequest, meeting: BoardMeeting, status: int = 200, **forms_: Any) -> HttpResponse:
    secretary = is_secretary(request.user)
    attendance = {row.director_id: row.present for row in meeting.attendance.all()}
    directors = Director.objects.filter(in_office=True).select_related("user").order_by("user__username")
    context = {
        "meeting": meeting,
        "secretary": secretary,
        "agenda": meeting.agenda.all(),
        "roll": [(director, attendance.get(director.pk)) for director in directors],
        "votes": board_meetings.votes_shown_to(request.user, meeting),
        "minutes_html": board_meetings.minutes_html(meeting.minutes),
        "comments": meeting.minutes_comments.select_related("author"),
        "approvals": meeting.minutes_approvals.select_related("director__user"),
        "is_director": not secretary and board_meetings.visibility.director_of(request.user) is not None,
        "attendance_form": forms_.get("attendance_form")
        or AttendanceForm(initial={"present": [pk for pk, here in attendance.items() if here]}),
        "vote_form": forms_.get("vote_form") or VoteForm(meeting=meeting),
        "minutes_form": forms_.get("minutes_form") or MinutesForm(initial={"minutes": meeting.minutes}),
        "comment_form": forms_.get("comment_form") or MinutesCommentForm(),
        "error": forms_.get("error", ""),
    }
    return render(request, "proposals/board_meeting.html", context, status=status)


@require_http_methods(["GET"])
@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    _board_only(request)
    meetings = board_meetings.meetings_visible_to(request.user)[:100]
    context = {"meetings": meetings, "secretary": is_secretary(request.user)}
    return render(request, "proposals/board_meeting_list.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def meeting_new(request: HttpRequest) -> HttpResponse:
    if not is_secretary(request.user):
        raise PermissionDenied(_("Only the company secretary may do this."))
    form = MeetingForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                meeting = board_meetings.board_meeting_create(actor=acting_user(request), **form.cleaned_data)
            except DomainError as error:
                form.add_error(None, error.message)
                status = error.status_code
            else:
                messages.success(request, _("The board meeting is scheduled."))
                return redirect("proposals:board-meeting", meeting_id=meeting.pk)
    return render(request, "proposals/board_meeting_new.html", {"form": form}, status=status)


@require_http_methods(["GET"])
@login_required
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _detail(request, _meeting(request, meeting_id))


def _act(
    request: HttpRequest, meeting: BoardMeeting, act: Callable[[], object], done: str, **forms_: Any
) -> HttpResponse:
    try:
        act()
    except DomainError as error:
        meeting.refresh_from_db()
        return _detail(request, meeting, status=error.status_code, error=str(error.message), **forms_)
    messages.success(request, done)
    return redirect("proposals:board-meeting", meeting_id=meeting.pk)


@require_POST
@login_required
def meeting_attendance(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, meeting_id)
    form = AttendanceForm(request.POST)
    if not form.is_valid():
        return _detail(request, meeting, status=400, attendance_form=form)
    return _act(
        request,
        meeting,
        lambda: board_meetings.attendance_record(
            meeting_id=meeting.pk,
            present=form.cleaned_data["present"],
            actor=acting_user(request),
        ),
        _("Attendance is recorded."),
    )


@require_POST
@login_required
def meeting_vote(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, meeting_id)
    if not is_secretary(request.user):
        raise PermissionDenied(_("Only the company secretary may do this."))
    form = VoteForm(request.POST, meeting=meeting)
    if not form.is_valid():
        return _detail(request, meeting, status=400, vote_form=form)
    data = form.cleaned_data
    return _act(
        request,
        meeting,
        lambda: board_meetings.meeting_vote_record(
            meeting_id=meeting.pk,
            proposal_id=data["proposal"].pk,
            director=data["director"],
            decision=data["decision"],
            comment=data["comment"],
            actor=acting_user(request),
        ),
        _("The vote taken at the meeting is recorded."),
        vote_form=form,
    )


@require_POST
@login_required
def minutes_save(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, meeting_id)
    form = MinutesForm(request.POST)
    if not form.is_valid():
        return _detail(request, meeting, status=400, minutes_form=form)
    return _act(
        request,
        meeting,
        lambda: board_meetings.minutes_save(
            meeting_id=meeting.pk,
            text=form.cleaned_data["minutes"],
            actor=acting_user(request),
        ),
        _("The minutes are saved."),
        minutes_form=form,
    )


@require_POST
@login_required
def minutes_circulate(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, meeting_id)
    return _act(
        request,
        meeting,
        lambda: board_meetings.minutes_circulate(meeting_id=meeting.pk, actor=acting_user(request)),
        _("The minutes are circulated to the directors."),
    )


@require_POST
@login_required
def minutes_comment(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, meeting_id)
    form = MinutesCommentForm(request.POST)
    if not form.is_valid():
        return _detail(request, meeting, status=400, comment_form=form)
    return _act(
        request,
        meeting,
        lambda: board_meetings.minutes_comment_add(
            meeting_id=meeting.pk,
            actor=acting_user(request),
            body=form.cleaned_data["body"],
        ),
        _("Your comment is added."),
        comment_form=form,
    )


@require_POST
@login_required
def minutes_approve(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, meeting_id)
    return _act(
        request,
        meeting,
        lambda: board_meetings.minutes_approve(meeting_id=meeting.pk, actor=acting_user(request)),
        _("Your approval of the minutes is recorded."),
    )


@require_http_methods(["GET"])
@login_required
def minutes_print(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, meeting_id)
    if meeting.minutes_status != MinutesStatus.APPROVED:
        raise Http404
    context = {
        "meeting": meeting,
        "minutes_html": board_meetings.minutes_html(meeting.minutes, below=1),
        # In groups of eight, so the 64 hex digits wrap on a phone.
        "digest_groups": " ".join(meeting.minutes_digest[i : i + 8] for i in range(0, 64, 8)),
        "present": board_meetings.present_directors(meeting),
        "votes": board_meetings.votes_shown_to(request.user, meeting),
    }
    return render(request, "proposals/board_minutes_print.html", context)
