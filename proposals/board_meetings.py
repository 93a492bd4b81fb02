"""Board meetings: the agenda, attendance recorded by the secretary, votes taken at the meeting
(review votes like any other, marked with the meeting), and minutes drafted in Markdown,
circulated to the directors for comments, approved by a majority of the directors in office and
then frozen (edits 409), with the approved text's SHA-256 on the trail. Reads and writes."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable

import nh3
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from core.audit import audit_append
from core.roles import is_secretary
from core.validators import bidi_overrides_message, has_bidi_overrides, outside_calendar, outside_calendar_message
from proposals import visibility
from proposals.exceptions import IllegalAction, InvalidProposal, NotAllowed
from proposals.models import (
    BoardAttendance,
    BoardMeeting,
    Director,
    MinutesApproval,
    MinutesComment,
    MinutesStatus,
    Proposal,
    ReviewVote,
)
from proposals.review import Decision
from proposals.review_votes import board_rule_apply
from proposals.services import _refuse_bidi_overrides
from proposals.workflow import State

AnyUser = User | AnonymousUser
# Raw HTML in the Markdown is shown as text, never passed through; nh3 cleans what the renderer
# made anyway, so a renderer bug cannot put a script or a style attribute on the page.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def minutes_html(text: str, *, below: int = 2) -> SafeString:
    """The minutes as HTML whose headings sit under the page's own (`below` levels down), so a
    "# Minutes" line never makes a second page title."""
    tokens = _MARKDOWN.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + below, 6)}"
    rendered = _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})
    cleaned = nh3.clean(rendered, link_rel="noopener noreferrer nofollow")
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 just above


def _stream(meeting: BoardMeeting) -> str:
    return f"board_meeting:{meeting.pk}"


def _require_secretary(actor: User) -> None:
    if not is_secretary(actor):
        raise NotAllowed(_("Only the company secretary may do this."))


def _lock(meeting_id: int) -> BoardMeeting:
    meeting = BoardMeeting.objects.select_for_update().filter(pk=meeting_id).first()
    if meeting is None:
        raise InvalidProposal(_("No such board meeting."))
    return meeting


# --- Reads -----------------------------------------------------------------------------------


def can_see_meetings(user: AnyUser | None) -> bool:
    """Board meetings are board material: the directors in office and the secretary."""
    if user is None or not user.is_authenticated:
        return False
    return is_secretary(user) or visibility.director_of(user) is not None


def meetings_visible_to(user: AnyUser | None) -> QuerySet[BoardMeeting]:
    meetings = BoardMeeting.objects.all()
    return meetings if can_see_meetings(user) else meetings.none()


def present_directors(meeting: BoardMeeting) -> list[Director]:
    return [row.director for row in meeting.attendance.filter(present=True).select_related("director__user")]


def votes_at(meeting: BoardMeeting) -> QuerySet[ReviewVote]:
    return ReviewVote.objects.filter(meeting=meeting).select_related("director__user", "proposal")


def votes_shown_to(user: AnyUser | None, meeting: BoardMeeting) -> list[ReviewVote]:
    """The votes taken at the meeting that `user` may read: individual review votes are
    deliberation, which a director recused from the proposal does not see, here as anywhere."""
    votes = list(votes_at(meeting))
    seen: dict[int, bool] = {}
    for vote in votes:
        if vote.proposal_id not in seen:
            seen[vote.proposal_id] = visibility.can_see_deliberation(user, vote.proposal)
    return [vote for vote in votes if seen[vote.proposal_id]]


def minutes_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- Writes ----------------------------------------------------------------------------------


@transaction.atomic
def board_meeting_create(
    *,
    starts_at: datetime.datetime,
    place: str = "",
    video_link: str = "",
    agenda: Iterable[Proposal] = (),
    actor: User,
) -> BoardMeeting:
    _require_secretary(actor)
    if not place.strip() and not video_link.strip():
        raise InvalidProposal(_("Give the place or the video link."))
    if outside_calendar(starts_at):
        # A site east of UTC stored the year 1's midnight as a moment BC, and every list of
        # the board's meetings failed to read it back.
        raise InvalidProposal(outside_calendar_message())
    meeting = BoardMeeting.objects.create(
        starts_at=starts_at, place=place.strip(), video_link=video_link.strip(), created_by=actor
    )
    proposals = list(agenda)
    meeting.agenda.set(proposals)
    audit_append(
        stream=_stream(meeting),
        action="board_meeting_created",
        actor=actor,
        payload={
            "starts_at": starts_at.isoformat(),
            "place": meeting.place,
            "video_link": meeting.video_link,
            "agenda": sorted(p.pk for p in proposals),
        },
    )
    return meeting


@transaction.atomic
def attendance_record(*, meeting_id: int, present: Iterable[Director], actor: User) -> BoardMeeting:
    """Who of the directors in office attended; the rest are recorded absent."""
    _require_secretary(actor)
    meeting = _lock(meeting_id)
    here = {director.pk for director in present}
    rows = []
    for director in Director.objects.filter(in_office=True).select_related("user"):
        BoardAttendance.objects.update_or_create(
            meeting=meeting, director=director, defaults={"present": director.pk in here}
        )
        rows.append((director.user.get_username(), director.pk in here))
    audit_append(
        stream=_stream(meeting),
        action="attendance_recorded",
        actor=actor,
        payload={"present": sorted(n for n, p in rows if p), "absent": sorted(n for n, p in rows if not p)},
    )
    return meeting


@transaction.atomic
def meeting_vote_record(
    *, meeting_id: int, proposal_id: int, director: Director, decision: str, actor: User, comment: str = ""
) -> ReviewVote:
    """A vote a present director cast at the meeting, recorded by the secretary: it counts like
    a review vote (it replaces the director's earlier one) and decides the proposal the same way."""
    _require_secretary(actor)
    if decision not in {choice.value for choice in Decision}:
        raise InvalidProposal(_("Decide approve, reject, refer or abstain."))
    _refuse_bidi_overrides(comment=comment)
    proposal = Proposal.objects.select_for_update().filter(pk=proposal_id).first()
    meeting = _lock(meeting_id)
    if proposal is None or not meeting.agenda.filter(pk=proposal.pk).exists():
        raise InvalidProposal(_("The proposal is not on this meeting's agenda."))
    if proposal.status != State.IN_REVIEW:
        raise IllegalAction(_("The board votes on a proposal only while it is in review."), [])
    if not meeting.attendance.filter(director=director, present=True).exists() or not director.in_office:
        raise IllegalAction(_("Only a director in office recorded present at the meeting votes there."), [])
    interest = director.recused_from(proposal)
    if interest is not None:
        raise NotAllowed(
            _("%(name)s is recused (an interest in %(interest)s).")
            % {
                "name": director.user.get_username(),
                "interest": interest,
            }
        )
    vote, created = ReviewVote.objects.update_or_create(
        proposal=proposal, director=director, defaults={"decision": decision, "comment": comment, "meeting": meeting}
    )
    audit_append(
        stream=f"proposal:{proposal.pk}",
        action="review_vote" if created else "review_vote_changed",
        actor=actor,
        payload={
            "director": director.user.get_username(),
            "decision": decision,
            "comment": comment,
            "meeting": meeting.pk,
            "meeting_at": meeting.starts_at.isoformat(),
        },
    )
    # The same rule as a vote cast on the review page.
    board_rule_apply(proposal=proposal)
    return vote


def _refuse_if_frozen(meeting: BoardMeeting) -> None:
    if meeting.minutes_status == MinutesStatus.APPROVED:
        raise IllegalAction(_("The minutes are approved and frozen; they cannot change."), [])


@transaction.atomic
def minutes_save(*, meeting_id: int, text: str, actor: User) -> BoardMeeting:
    """Draft or correct the minutes. A correction after circulation withdraws the approvals
    given so far: they were for another text."""
    _require_secretary(actor)
    _refuse_bidi_overrides(minutes=text)
    meeting = _lock(meeting_id)
    _refuse_if_frozen(meeting)
    meeting.minutes = text
    meeting.save(update_fields=["minutes"])
    withdrawn, _rows = MinutesApproval.objects.filter(meeting=meeting).delete()
    audit_append(
        stream=_stream(meeting),
        action="minutes_edited",
        actor=actor,
        payload={"digest": minutes_digest(text), "approvals_withdrawn": withdrawn},
    )
    return meeting


@transaction.atomic
def minutes_circulate(*, meeting_id: int, actor: User) -> BoardMeeting:
    _require_secretary(actor)
    meeting = _lock(meeting_id)
    if meeting.minutes_status != MinutesStatus.DRAFT:
        raise IllegalAction(_("The minutes are already circulated."), [])
    if not meeting.minutes.strip():
        raise InvalidProposal(_("Write the minutes before circulating them."))
    meeting.minutes_status = MinutesStatus.CIRCULATED
    meeting.save(update_fields=["minutes_status"])
    audit_append(
        stream=_stream(meeting),
        action="minutes_circulated",
        actor=actor,
        payload={"digest": minutes_digest(meeting.minutes)},
    )
    return meeting


def _director_for(user: User) -> Director:
    director = visibility.director_of(user)
    if director is None:
        raise NotAllowed(_("Only directors in office comment on and approve the minutes."))
    return director


@transaction.atomic
def minutes_comment_add(*, meeting_id: int, actor: User, body: str) -> MinutesComment:
    _director_for(actor)
    meeting = _lock(meeting_id)
    if meeting.minutes_status != MinutesStatus.CIRCULATED:
        raise IllegalAction(_("Comments are taken while the minutes are circulated."), [])
    body = body.strip()
    if not body:
        raise InvalidProposal(_("Write a comment."))
    if has_bidi_overrides(body):
        raise InvalidProposal(bidi_overrides_message(["body"]))
    comment = MinutesComment.objects.create(meeting=meeting, author=actor, body=body)
    audit_append(
        stream=_stream(meeting),
        action="minutes_commented",
        actor=actor,
        payload={"comment_id": comment.pk, "body": body},
    )
    return comment


@transaction.atomic
def minutes_approve(*, meeting_id: int, actor: User) -> BoardMeeting:
    """A director's approval of the circulated text; a majority of the directors in office
    approves the minutes, which are then frozen."""
    director = _director_for(actor)
    meeting = _lock(meeting_id)
    _refuse_if_frozen(meeting)
    if meeting.minutes_status != MinutesStatus.CIRCULATED:
        raise IllegalAction(_("The minutes are approved once they are circulated."), [])
    _approval, created = MinutesApproval.objects.get_or_create(meeting=meeting, director=director)
    if not created:
        raise IllegalAction(_("You have already approved these minutes."), [])
    digest = minutes_digest(meeting.minutes)
    audit_append(stream=_stream(meeting), action="minutes_approval", actor=actor, payload={"digest": digest})
    in_office = Director.objects.filter(in_office=True).count()
    approvals = MinutesApproval.objects.filter(meeting=meeting, director__in_office=True).count()
    if approvals * 2 > in_office:
        meeting.minutes_status = MinutesStatus.APPROVED
        meeting.minutes_approved_at = timezone.now()
        meeting.minutes_digest = digest
        meeting.save(update_fields=["minutes_status", "minutes_approved_at", "minutes_digest"])
        audit_append(
            stream=_stream(meeting),
            action="minutes_approved",
            actor=None,
            payload={"digest": digest, "approvals": approvals, "in_office": in_office},
        )
    return meeting
