"""Every write to proposals: pages, API, admin, tasks and commands call these."""

from __future__ import annotations

import dataclasses
import datetime
import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

from polls import meeting_services
from polls import selectors as poll_selectors
from polls import services as poll_services
from polls.audit import audit_append
from polls.models import Meeting, Poll, PollStatus, VoteStandard
from polls.permissions import SECRETARY_GROUP, is_secretary
from polls.validators import control_character_fields, control_characters_message, shown
from proposals import selectors, visibility
from proposals.exceptions import FollowUpNotFound, IllegalAction, InvalidProposal, NotAllowed
from proposals.models import (
    COMMENT_MAX_CHARS,
    PROPOSAL_TEXT_FIELDS,
    STATE_CHOICES,
    Attachment,
    Comment,
    Director,
    FollowUp,
    Notification,
    Proposal,
    Recusal,
    ReviewVote,
)
from proposals.parties import party_key
from proposals.party_services import parties_for, party_resolve
from proposals.permissions import can_edit_proposal, director_of, roles_of
from proposals.review import REFERRED, Decision, automatic_verdict, forced_verdict, recommendation
from proposals.workflow import Action, Role, State, allowed_actions, resolve_target, transition_for

FOLLOW_UP_DAYS = 30
REMINDER_WINDOW = datetime.timedelta(hours=48)
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
EDITABLE_FIELDS = set(PROPOSAL_TEXT_FIELDS)
# Who may act, in a refusal: "Only the secretary may ...". Italian carries the article here.
ROLE_WORDS = {
    Role.PROPOSER: pgettext_lazy("workflow role, in a sentence", "proposer"),
    Role.SECRETARY: pgettext_lazy("workflow role, in a sentence", "secretary"),
    Role.SYSTEM: pgettext_lazy("workflow role, in a sentence", "system"),
}

logger = logging.getLogger("quorum.proposals")


def _state_word(state: str) -> str:
    """A proposal's state in a sentence, in the reader's language ("in review", "in revisione");
    the action names beside it stay the API's identifiers, which the answer lists."""
    return str(dict(STATE_CHOICES).get(state, state)).lower()


def _stream(proposal: Proposal) -> str:
    return f"proposal:{proposal.pk}"


# --- Creating and editing --------------------------------------------------------------------


SINGLE_LINE_FIELDS = {"title", "counterparty"}


def _refuse_control_characters(**values: str | Iterable[str]) -> None:
    """Single-line values, for the callers that bypass forms and serializers."""
    fields = control_character_fields(**values)
    if fields:
        raise InvalidProposal(control_characters_message(fields))


@transaction.atomic
def proposal_create(
    *,
    proposer: User,
    title: str,
    summary: str,
    body: str = "",
    kind: str = "other",
    amount: Decimal | None = None,
    currency: str = "",
    counterparty: str = "",
    needs_shareholder_vote: bool = False,
    advisory: bool = False,
    polls: Iterable[Poll] = (),
    escalated_from: Poll | None = None,
) -> Proposal:
    if amount is not None and amount < 0:
        raise InvalidProposal(_("The amount must not be negative."))
    _refuse_control_characters(title=title, counterparty=counterparty)
    proposal = Proposal.objects.create(
        proposer=proposer,
        title=title,
        summary=summary,
        body=body,
        kind=kind,
        amount=amount,
        currency=currency.upper(),
        counterparty=counterparty.strip(),
        party=party_resolve(text=counterparty, actor=proposer),
        needs_shareholder_vote=needs_shareholder_vote,
        advisory=advisory,
        escalated_from=escalated_from,
    )
    proposal.polls.set(list(polls))
    audit_append(
        stream=_stream(proposal),
        action="created",
        actor=proposer,
        payload={"to": State.DRAFT, "escalated_from": escalated_from.pk if escalated_from else None},
    )
    return proposal


@transaction.atomic
def proposal_update(
    *, proposal: Proposal, editor: User, polls: Iterable[Poll] | None = None, **changes: Any
) -> Proposal:
    """The proposer edits the text while it is a draft or was returned; never afterwards."""
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if not can_edit_proposal(editor, proposal):
        raise NotAllowed(
            _("Only the proposer may edit, and only in draft or returned; this one is %(status)s.")
            % {"status": _state_word(proposal.status)}
        )
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidProposal(_("These fields cannot be edited: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    _refuse_control_characters(**{f: str(v) for f, v in changes.items() if f in SINGLE_LINE_FIELDS})
    for field, value in changes.items():
        setattr(proposal, field, value)
    if "counterparty" in changes:
        proposal.party = party_resolve(text=proposal.counterparty, actor=editor)
    proposal.save()
    if polls is not None:
        proposal.polls.set(list(polls))
    audit_append(stream=_stream(proposal), action="edited", actor=editor, payload={"fields": sorted(changes)})
    return proposal


# --- The workflow ---------------------------------------------------------------------------


def _refuse(proposal: Proposal, actor: User | None, action: str) -> None:
    transition = transition_for(proposal.status, action)
    roles = roles_of(actor, proposal)
    allowed = allowed_actions(proposal.status, roles)
    if transition is None:
        raise IllegalAction(
            _("A proposal that is %(status)s cannot %(action)s.")
            % {"status": _state_word(proposal.status), "action": action},
            allowed,
        )
    if action == Action.REFER and Role.SYSTEM not in roles:
        raise NotAllowed(
            _("Referral is the board's decision: it follows when the directors vote to refer; nobody refers alone."),
            allowed,
        )
    if not roles & set(transition.roles):
        needed = functools.reduce(
            lambda first, second: _("%(first)s or %(second)s") % {"first": first, "second": second},
            (str(ROLE_WORDS[role]) for role in sorted(transition.roles, key=lambda role: role.value)),
        )
        raise NotAllowed(
            _("Only the %(roles)s may %(action)s this proposal.") % {"roles": needed, "action": action}, allowed
        )


@dataclass
class _Step:
    """One transition in the making: the caller's arguments, and what the action's own steps
    add before the change is saved (the outcome, a default comment, the event's payload)."""

    proposal: Proposal
    actor: User | None
    comment: str
    outcome: str | None
    due_at: datetime.datetime | None
    meeting: Meeting | None
    standard: str
    threshold: str
    comparator: str
    closes_at: datetime.datetime | None
    payload: dict[str, Any] = dataclasses.field(default_factory=dict)


def _prepare_submission(step: _Step) -> None:
    # Stored before single-line fields were checked: refused before anything changes,
    # rather than breaking the notifications it would send.
    proposal = step.proposal
    _refuse_control_characters(title=proposal.title, counterparty=proposal.counterparty)
    if proposal.submitted_at is None:
        proposal.submitted_at = timezone.now()


def _prepare_review(step: _Step) -> None:
    if step.due_at is None or step.due_at <= timezone.now():
        raise InvalidProposal(_("Set a review due date in the future."))
    step.proposal.review_due_at = step.due_at
    step.payload["due_at"] = step.due_at.isoformat()


def _prepare_decision(step: _Step) -> None:
    """The system decides on the outcome it was given; the secretary on the rule's verdict on
    the votes cast so far, when the board has left the decision to them."""
    if step.actor is None:
        if step.outcome is None:
            raise InvalidProposal(_("The automatic decision needs an outcome."))
        return
    from proposals.board import decide_refusal

    verdict = forced_verdict(selectors.review_tally(step.proposal))
    refusal = decide_refusal(step.proposal, verdict, step.actor)
    if refusal is not None:
        raise refusal
    step.outcome, step.comment = verdict.outcome, step.comment or verdict.reason


def _prepare_referral(step: _Step) -> None:
    step.comment = step.comment or "The board makes no recommendation and refers the proposal to shareholders."


def _prepare_vote(step: _Step) -> None:
    """The shareholder item that carries the proposal, on the chosen meeting's ballot."""
    if step.meeting is None:
        raise InvalidProposal(_("Choose the meeting whose ballot will carry the item."))
    proposal, now = step.proposal, timezone.now()
    proposal.item = meeting_services.item_create(
        meeting=step.meeting,
        title=proposal.title,
        description=proposal.summary,
        standard=step.standard,
        threshold=step.threshold,
        comparator=step.comparator,
        advisory=proposal.advisory,
        opens_at=now,
        closes_at=step.closes_at or now + datetime.timedelta(days=14),
        created_by=step.actor,
    )
    step.payload.update(
        item=proposal.item.pk, meeting=step.meeting.pk, standard=step.standard, threshold=step.threshold
    )
    step.payload["recommendation"] = proposal.board_recommendation


def _prepare_settlement(step: _Step) -> None:
    if step.outcome is None:
        raise InvalidProposal(_("Settlement needs the certified outcome."))


def _recommend(step: _Step, target: State) -> None:
    # What the shareholders' ballot will show next to the item when it is put to a vote.
    step.proposal.board_recommendation = recommendation(target)
    step.payload["recommendation"] = step.proposal.board_recommendation


def _follow_up_if_advisory(proposal: Proposal, target: State) -> None:
    if proposal.advisory:
        _open_follow_up(proposal, target)


def _nothing(*_args: object) -> None:
    return None


# What each action does beyond the table's move, in the order a transition runs: before the
# target is known (checks, the outcome, the payload), once it is known, and after the event.
_PREPARE: dict[str, Callable[[_Step], None]] = {
    Action.SUBMIT: _prepare_submission,
    Action.RESUBMIT: _prepare_submission,
    Action.START_REVIEW: _prepare_review,
    Action.DECIDE: _prepare_decision,
    Action.REFER: _prepare_referral,
    Action.PUT_TO_VOTE: _prepare_vote,
    Action.SETTLE: _prepare_settlement,
}
_ON_TARGET: dict[str, Callable[[_Step, State], None]] = {
    Action.DECIDE: _recommend,
    Action.REFER: _recommend,
}
_AFTER: dict[str, Callable[[Proposal, State], None]] = {
    Action.START_REVIEW: lambda proposal, _target: _record_recusals(proposal),
    Action.SETTLE: _follow_up_if_advisory,
}


@transaction.atomic
def proposal_transition(
    *,
    proposal_id: int,
    action: str,
    actor: User | None,
    comment: str = "",
    due_at: datetime.datetime | None = None,
    meeting: Meeting | None = None,
    standard: str = VoteStandard.VOTES_CAST,
    threshold: str = "1/2",
    comparator: str = ">",
    closes_at: datetime.datetime | None = None,
    outcome: str | None = None,
) -> Proposal:
    """Apply one action of the workflow table under a row lock: check the table and the
    actor's role, make the change, write the event, and queue notifications for after commit.
    `actor=None` is the system (automatic decisions, settlement)."""
    try:
        proposal = Proposal.objects.select_for_update().get(pk=proposal_id)
    except Proposal.DoesNotExist:
        raise InvalidProposal(_("No such proposal.")) from None
    _refuse(proposal, actor, action)
    transition = transition_for(proposal.status, action)
    assert transition is not None  # noqa: S101 - _refuse raised otherwise
    step = _Step(
        proposal=proposal,
        actor=actor,
        comment=comment.strip(),
        outcome=outcome,
        due_at=due_at,
        meeting=meeting,
        standard=standard,
        threshold=threshold,
        comparator=comparator,
        closes_at=closes_at,
    )
    if transition.comment_required and not step.comment:
        raise InvalidProposal(_("Say why: %(action)s needs a comment for the proposer.") % {"action": action})
    source = proposal.status
    _PREPARE.get(action, _nothing)(step)
    target = resolve_target(transition, step.outcome)
    proposal.status = target
    _ON_TARGET.get(action, _nothing)(step, target)
    proposal.save()
    audit_append(
        stream=_stream(proposal),
        action=action,
        actor=actor,
        payload={"from": source, "to": target, "comment": step.comment, **step.payload},
    )
    _AFTER.get(action, _nothing)(proposal, target)
    _notify_transition(proposal, action, target)
    return proposal


def _open_follow_up(proposal: Proposal, outcome: str) -> None:
    follow_up, created = FollowUp.objects.get_or_create(
        proposal=proposal,
        defaults={
            "due_at": timezone.now() + datetime.timedelta(days=FOLLOW_UP_DAYS),
            "note": f"The shareholder vote was advisory ({outcome}); the board decides what to do with it.",
        },
    )
    if created:
        audit_append(
            stream=_stream(proposal),
            action="follow_up_opened",
            actor=None,
            payload={"due_at": follow_up.due_at.isoformat(), "comment": follow_up.note},
        )


@transaction.atomic
def follow_up_complete(*, follow_up_id: int, actor: User, comment: str = "") -> FollowUp:
    """The board's next step is taken: the secretary records it once, on the proposal's trail."""
    if not is_secretary(actor):
        raise NotAllowed(_("Only the company secretary may close a follow-up."))
    proposal_id = FollowUp.objects.filter(pk=follow_up_id).values_list("proposal_id", flat=True).first()
    if proposal_id is None:
        raise FollowUpNotFound()
    # The proposal first, as a transition does: its audit chain takes one writer at a time.
    Proposal.objects.select_for_update().get(pk=proposal_id)
    follow_up = FollowUp.objects.select_for_update().select_related("proposal").get(pk=follow_up_id)
    if follow_up.done_at is not None:
        raise IllegalAction(_("This follow-up is already done."), allowed_actions=[])
    follow_up.done_at = timezone.now()
    follow_up.save(update_fields=["done_at"])
    audit_append(
        stream=_stream(follow_up.proposal),
        action="follow_up_done",
        actor=actor,
        payload={"comment": comment.strip()},
    )
    return follow_up


def _record_recusals(proposal: Proposal) -> None:
    for director in Director.objects.filter(in_office=True).select_related("user"):
        interest = director.conflict_with(proposal.counterparty)
        if interest is None:
            continue
        _recusal, created = Recusal.objects.get_or_create(
            proposal=proposal, director=director, defaults={"interest": interest}
        )
        if created:
            audit_append(
                stream=_stream(proposal),
                action="director_recused",
                actor=None,
                payload={"director": director.user.get_username(), "interest": interest},
            )


# --- Board review ---------------------------------------------------------------------------


@transaction.atomic
def review_vote_cast(*, proposal_id: int, user: User, decision: str, comment: str = "") -> ReviewVote:
    """A director's approve, reject, refer or abstain. A conflicted director is refused, naming
    the interest; once the board rule can no longer change the proposal is decided on the spot
    (referred when the refer votes carry it), and a final tie is reported to the secretary."""
    try:
        proposal = Proposal.objects.select_for_update().get(pk=proposal_id)
    except Proposal.DoesNotExist:
        raise InvalidProposal(_("No such proposal.")) from None
    if decision not in {choice.value for choice in Decision}:
        raise InvalidProposal(_("Decide approve, reject, refer or abstain."))
    director = director_of(user)
    if director is None:
        raise NotAllowed(_("Only directors in office review proposals."))
    if proposal.status != State.IN_REVIEW:
        raise IllegalAction(
            _("The proposal is %(status)s; the board reviews only in review.")
            % {"status": _state_word(proposal.status)},
            [],
        )
    interest = director.recused_from(proposal)
    if interest is not None:
        raise NotAllowed(_("You are recused: you declared an interest in %(interest)s.") % {"interest": interest})
    vote, created = ReviewVote.objects.update_or_create(
        proposal=proposal, director=director, defaults={"decision": decision, "comment": comment}
    )
    audit_append(
        stream=_stream(proposal),
        action="review_vote" if created else "review_vote_changed",
        actor=user,
        payload={"director": user.get_username(), "decision": decision, "comment": comment},
    )
    verdict = automatic_verdict(selectors.review_tally(proposal))
    if verdict.final and verdict.outcome is not None:
        board_action = Action.REFER if verdict.outcome == REFERRED else Action.DECIDE
        proposal_transition(
            proposal_id=proposal.pk, action=board_action, actor=None, outcome=verdict.outcome, comment=verdict.reason
        )
    elif verdict.final and verdict.tied:
        from proposals.board import tie_report

        tie_report(proposal=proposal, verdict=verdict)
    return vote


@transaction.atomic
def director_save(*, user: User, title: str = "", interests: Iterable[str] = (), in_office: bool = True) -> Director:
    interests = list(interests)
    _refuse_control_characters(title=title, interests=interests)
    cleaned = sorted({interest.strip() for interest in interests if interest.strip()}, key=str.casefold)
    nameless = [interest for interest in cleaned if not party_key(interest)]
    if nameless:
        # "..." or a zero-width space would be stored as an interest that recuses from nothing.
        raise InvalidProposal(_("An interest must name a party: %(text)s.") % {"text": nameless[0][:80]})
    director, _created = Director.objects.update_or_create(
        user=user, defaults={"title": title, "interests": cleaned, "in_office": in_office}
    )
    parties = parties_for(cleaned, actor=user)
    director.parties.set(parties)
    audit_append(
        stream=f"director:{user.pk}",
        action="interests_declared",
        actor=user,
        payload={
            "title": title,
            "interests": cleaned,
            "parties": sorted(party.pk for party in parties),
            "in_office": in_office,
        },
    )
    # An interest declared mid-review recuses at once, with the event on the proposal's trail.
    for proposal in Proposal.objects.select_for_update().filter(status=State.IN_REVIEW):
        _record_recusals(proposal)
    return director


# --- Reactions to polls ---------------------------------------------------------------------


def proposal_escalate(*, poll_id: int) -> Proposal | None:
    """Open the draft proposal a closed public poll asks for, once. Safe to run twice: the
    poll can anchor only one proposal (unique), and a second run finds it."""
    poll = Poll.objects.filter(pk=poll_id).select_related("created_by", "escalation_option").first()
    if poll is None or poll.effective_status() not in (PollStatus.CLOSED, PollStatus.CERTIFIED):
        return None
    option = poll_selectors.escalation_triggered(poll)
    if option is None:
        return None
    existing = Proposal.objects.filter(escalated_from=poll).first()
    if existing is not None:
        return existing
    proposer = poll.created_by or _secretaries().first()
    if proposer is None:
        return None
    try:
        with transaction.atomic():
            proposal = proposal_create(
                proposer=proposer,
                title=f"Follow up the poll: {poll.title}"[:300],
                summary=f"The poll closed with “{option.label}” at or above "
                f"{poll.escalation_numerator}/{poll.escalation_denominator} of the votes.",
                polls=[poll],
                escalated_from=poll,
            )
            notification_enqueue(kind="escalated", proposal=proposal, recipients=_secretary_emails())
    except IntegrityError:
        return Proposal.objects.filter(escalated_from=poll).first()
    return proposal


def proposal_settle(*, proposal_id: int) -> Proposal | None:
    """Adopted or defeated once the item is certified. Safe to run twice."""
    proposal = Proposal.objects.filter(pk=proposal_id).select_related("item").first()
    if proposal is None or proposal.status != State.SHAREHOLDER_VOTE or proposal.item is None:
        return proposal
    if proposal.item.status != PollStatus.CERTIFIED or not proposal.item.certified_result:
        return proposal
    passed = bool(proposal.item.certified_result.get("outcome", {}).get("passed"))
    try:
        return proposal_transition(
            proposal_id=proposal.pk,
            action=Action.SETTLE,
            actor=None,
            outcome=State.ADOPTED if passed else State.DEFEATED,
            comment=f"Shareholder vote certified: {proposal.item.certified_result['outcome']['reason']}.",
        )
    except IllegalAction:
        return Proposal.objects.get(pk=proposal.pk)  # settled by a concurrent run


# --- Comments and attachments ----------------------------------------------------------------


@transaction.atomic
def comment_add(*, proposal: Proposal, author: User, body: str) -> Comment:
    # The lock orders this event after any other on the proposal's chain.
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if not visibility.can_comment(author, proposal):
        raise NotAllowed(_("You may not comment on this proposal."))
    if not body.strip():
        raise InvalidProposal(_("Write something to comment."))
    if len(body) > COMMENT_MAX_CHARS:
        raise InvalidProposal(
            _("A comment is at most %(count)s characters; attach a longer text as a file.")
            % {"count": f"{COMMENT_MAX_CHARS:,}"}
        )
    comment = Comment.objects.create(proposal=proposal, author=author, body=body.strip())
    audit_append(stream=_stream(proposal), action="commented", actor=author, payload={"comment_id": comment.pk})
    return comment


SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
]
EXTENSIONS = {
    "application/pdf": {".pdf"},
    "image/png": {".png"},
    "image/jpeg": {".jpg", ".jpeg"},
    "text/plain": {".txt"},
}


def sniff_content_type(head: bytes) -> str | None:
    """The type the bytes say they are (not the name): PDF, PNG, JPEG or UTF-8 text."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        if error.start < len(head) - 3:
            return None
    return "text/plain"


@transaction.atomic
def attachment_add(*, proposal: Proposal, uploaded_by: User, upload: UploadedFile) -> Attachment:
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if not visibility.can_attach(uploaded_by, proposal):
        raise NotAllowed(_("You may not attach files to this proposal."))
    size = upload.size or 0
    if size > MAX_ATTACHMENT_BYTES:
        raise InvalidProposal(
            _("The file is %(size)s bytes; attachments are limited to 10 MB.")
            % {"size": poll_services.grouped_number(size)}
        )
    if size == 0:
        raise InvalidProposal(_("The file is empty."))
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    content_type = sniff_content_type(head)
    if content_type is None:
        raise InvalidProposal(_("Attach a PDF, PNG, JPEG or plain-text file."))
    name = (upload.name or "attachment").rsplit("/", 1)[-1]
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in EXTENSIONS[content_type]:
        raise InvalidProposal(
            _("The file's name says %(suffix)s, but its content is %(content_type)s.")
            % {"suffix": suffix or pgettext("no file name extension", "nothing"), "content_type": content_type}
        )
    attachment = Attachment.objects.create(
        proposal=proposal, file=upload, name=name, content_type=content_type, size=size, uploaded_by=uploaded_by
    )
    audit_append(
        stream=_stream(proposal),
        action="attached",
        actor=uploaded_by,
        payload={"attachment": attachment.pk, "name": name, "content_type": content_type, "size": size},
    )
    return attachment


# --- Notifications --------------------------------------------------------------------------


def _secretaries() -> Any:
    return get_user_model().objects.filter(groups__name=SECRETARY_GROUP, is_active=True).order_by("pk")


def _secretary_emails() -> list[str]:
    return [email for email in _secretaries().values_list("email", flat=True) if email]


def _director_emails(proposal: Proposal, *, disinterested_only: bool) -> list[str]:
    directors = (
        selectors.disinterested_directors(proposal)
        if disinterested_only
        else list(Director.objects.filter(in_office=True).select_related("user"))
    )
    return [director.user.email for director in directors if director.user.email]


def _notify_transition(proposal: Proposal, action: str, target: str) -> None:
    proposer = [proposal.proposer.email] if proposal.proposer.email else []
    if action in (Action.SUBMIT, Action.RESUBMIT):
        notification_enqueue(kind="submitted", proposal=proposal, recipients=_secretary_emails(), round_=action)
    elif action == Action.START_REVIEW:
        notification_enqueue(
            kind="review_requested", proposal=proposal, recipients=_director_emails(proposal, disinterested_only=True)
        )
    elif action in (Action.DECIDE, Action.REFER, Action.RETURN):
        notification_enqueue(kind="decided", proposal=proposal, recipients=proposer, round_=target)
    elif action == Action.SETTLE:
        recipients = proposer + _director_emails(proposal, disinterested_only=False)
        notification_enqueue(kind="outcome", proposal=proposal, recipients=recipients)


def notification_enqueue(*, kind: str, proposal: Proposal, recipients: Iterable[str], round_: str = "") -> None:
    """Record one notification per recipient (idempotent by key) and send each after commit.
    Neither a lost broker nor a failed send turns the committed change into an error: the
    task records the failure and the sweep tries again."""
    from proposals.tasks import send_notification

    for recipient in dict.fromkeys(recipients):
        key = f"{kind}:{proposal.pk}:{round_}:{recipient}"[:200]
        notification, created = Notification.objects.get_or_create(
            key=key,
            defaults={"kind": kind, "proposal": proposal, "recipient": recipient, "context": {"round": round_}},
        )
        if created:
            send_notification.delay_on_commit(notification.pk)


def notification_message_id(notification: Notification) -> str:
    """The same Message-ID on every attempt. A worker that dies after the mail server accepted
    a message but before `sent_at` committed sends it again when the task is redelivered; with
    one Message-ID that second copy is recognisably the same message, which mail clients and
    providers fold into one, rather than a second notification."""
    host = urlsplit(settings.SITE_URL).hostname or "quorum.invalid"
    return f"<notification.{notification.pk}@{host}>"


def _render_text(template_name: str, context: dict[str, Any]) -> str:
    """A plain-text part of an e-mail: nothing is HTML-escaped (a title's `"` stays `"`)."""
    template = get_template(template_name).template  # type: ignore[attr-defined]
    return str(template.render(Context(context, autoescape=False)))


def notification_subject(kind: str, context: dict[str, Any]) -> str:
    """One line of plain text: whitespace (a line break in a stored title) is collapsed, so
    a subject can never add a header or break the message."""
    return " ".join(_render_text(f"proposals/email/{kind}_subject.txt", context).split())


@transaction.atomic
def notification_send(*, notification_id: int) -> bool:
    """Send once: the row lock and `sent_at` make a retried or duplicated task a no-op. A
    notification marked failed is not sent again by itself."""
    notification = (
        Notification.objects.select_for_update(of=("self",))
        .select_related("proposal")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None or notification.sent_at is not None or notification.failed_at is not None:
        return False
    context = {
        "notification": notification,
        "proposal": notification.proposal,
        "site_url": settings.SITE_URL,
        "round": notification.context.get("round", ""),
    }
    # The worker has no browser to ask: the recipient's own choice of language, else the site's.
    with translation.override(poll_selectors.language_for_email(notification.recipient)):
        message = EmailMultiAlternatives(
            subject=notification_subject(notification.kind, context),
            body=_render_text("proposals/email/notification.txt", context),
            to=[notification.recipient],
            headers={"Message-ID": notification_message_id(notification)},
        )
        message.attach_alternative(render_to_string("proposals/email/notification.html", context), "text/html")
    message.send()
    notification.sent_at = timezone.now()
    notification.attempts += 1
    notification.save(update_fields=["sent_at", "attempts"])
    return True


def notification_failure_record(*, notification_id: int, error: BaseException) -> bool:
    """Count a failed attempt, in its own transaction (the attempt's rolled back); the
    `MAX_ATTEMPTS`th marks the notification failed. True when it is now failed."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .filter(pk=notification_id, sent_at__isnull=True, failed_at__isnull=True)
            .first()
        )
        if notification is None:
            return False
        notification.attempts += 1
        notification.last_error = shown(f"{type(error).__name__}: {error}", 490)
        if notification.attempts >= Notification.MAX_ATTEMPTS:
            notification.failed_at = timezone.now()
        notification.save(update_fields=["attempts", "last_error", "failed_at"])
    logger.warning(
        "notification %s: attempt %s failed (%s)%s",
        notification_id,
        notification.attempts,
        notification.last_error,
        "; marked failed" if notification.failed_at else "",
    )
    return notification.failed_at is not None


@transaction.atomic
def notification_retry(*, notification_id: int) -> bool:
    """The secretary sends a failed notification again (the address was fixed, the mail
    server is back): it is pending with a fresh count of attempts, and queued after commit.
    False when it is not failed."""
    from proposals.tasks import send_notification

    reset = Notification.objects.filter(pk=notification_id, failed_at__isnull=False, sent_at__isnull=True).update(
        failed_at=None, attempts=0
    )
    if reset:
        send_notification.delay_on_commit(notification_id)
    return bool(reset)


def notification_attempt(*, notification_id: int) -> bool:
    """Try to send one notification; a failure is recorded, never raised, so one bad
    notification cannot stop the others. True when it was sent."""
    try:
        return notification_send(notification_id=notification_id)
    except Exception as error:  # any failure of one notification is recorded and logged
        logger.exception("notification %s could not be sent", notification_id)
        notification_failure_record(notification_id=notification_id, error=error)
        return False


def notifications_resend(*, stale_after: datetime.timedelta, now: datetime.datetime | None = None) -> int:
    """The sweep's part: every pending notification older than `stale_after` (its task was
    lost, or its attempts failed), each on its own. Returns how many were sent."""
    cutoff = (now or timezone.now()) - stale_after
    pending = Notification.objects.filter(sent_at__isnull=True, failed_at__isnull=True, created_at__lte=cutoff)
    return sum(notification_attempt(notification_id=pk) for pk in pending.order_by("pk").values_list("pk", flat=True))


def review_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Remind directors who have not voted when a review is due within 48 hours. The key
    carries the due date, so each review reminds each director once."""
    now = now or timezone.now()
    due = Proposal.objects.filter(
        status=State.IN_REVIEW, review_due_at__gt=now, review_due_at__lte=now + REMINDER_WINDOW
    )
    count = 0
    for proposal in due:
        voted = set(ReviewVote.objects.filter(proposal=proposal).values_list("director_id", flat=True))
        waiting = [
            d.user.email for d in selectors.disinterested_directors(proposal) if d.pk not in voted and d.user.email
        ]
        with transaction.atomic():
            before = Notification.objects.filter(kind="review_reminder", proposal=proposal).count()
            notification_enqueue(
                kind="review_reminder",
                proposal=proposal,
                recipients=waiting,
                round_=f"{proposal.review_due_at:%Y%m%d%H%M}",
            )
            count += Notification.objects.filter(kind="review_reminder", proposal=proposal).count() - before
    return count
