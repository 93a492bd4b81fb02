"""Every write to polls goes through here: the pages, the API, the admin, commands and tasks."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from core.audit import audit_append
from core.models import Profile
from core.validators import (
    bidi_override_fields,
    bidi_overrides_message,
    control_character_fields,
    control_characters_message,
)
from polls import kinds, lifecycle, refusals
from polls.exceptions import (
    IllegalTransition,
    InvalidPollData,
    PollNotFound,
)
from polls.lifecycle import Event, Refusal
from polls.models import (
    Choice,
    Option,
    Poll,
    PollKind,
    PollStatus,
    RecordedPoll,
    RecordedSnapshot,
    ResultsVisibility,
)
from polls.option_labels import option_label_clean, option_label_duplicates, options_not_distinct
from polls.permissions import poll_manager_required
from polls.selectors import window_q
from polls.signals import poll_closed, poll_opened
from polls.standards import Threshold

MIN_OPTIONS = 2
MAX_OPTIONS = 20
MAX_OPTION_LABEL: int = Option._meta.get_field("label").max_length or 0  # the column decides

logger = logging.getLogger("quorum.polls")


def _refuse_control_characters(**values: str | Sequence[str]) -> None:
    """Single-line values, for the callers that bypass forms and serializers."""
    fields = control_character_fields(**values)
    if fields:
        raise InvalidPollData(control_characters_message(fields))


def _refuse_bidi_overrides(**values: str | None) -> None:
    """Free text (a description): right-to-left text is welcome, an override not."""
    fields = bidi_override_fields(**values)
    if fields:
        raise InvalidPollData(bidi_overrides_message(fields))


def _clean_options(options: Sequence[str], **single_line: str) -> list[str]:
    """A public poll's option labels, cleaned and checked; `single_line` values (a new title) are
    checked for control characters with them, so one refusal names every offending field."""
    labels = [option_label_clean(label) for label in options]
    _refuse_control_characters(**single_line, options=labels)
    if not MIN_OPTIONS <= len(labels) <= MAX_OPTIONS:
        raise InvalidPollData(
            _("A poll needs between %(min)d and %(max)d options.") % {"min": MIN_OPTIONS, "max": MAX_OPTIONS}
        )
    if any(not label for label in labels) or option_label_duplicates(labels):
        raise InvalidPollData(options_not_distinct(labels))
    if any(len(label) > MAX_OPTION_LABEL for label in labels):
        raise InvalidPollData(_("An option may be at most %(max)d characters long.") % {"max": MAX_OPTION_LABEL})
    return labels


def _status_word(status: str) -> str:
    """A poll's status in a sentence: "closed" in English (the stored value), "chiusa" in Italian."""
    return str(PollStatus(status).label).lower()


def grouped_number(number: int) -> str:
    """A whole number with the reader's thousands separator: 1,060,000,000 or 1.060.000.000.
    With no language active (translations deactivated) it stays 1,060,000,000."""
    if get_language() is None:
        return f"{number:,}"
    return number_format(number, force_grouping=True)


def _window_check(opens_at: datetime.datetime, closes_at: datetime.datetime) -> None:
    """The window's first problem (`kinds.window_problems`: a moment past the site's calendar,
    which overflowed on the pages in a site's time zone east or west of UTC; a close before the
    opening), refused."""
    problems = kinds.window_problems(opens_at=opens_at, closes_at=closes_at)
    if problems:
        raise InvalidPollData(next(iter(problems.values())))


@transaction.atomic
def poll_create(
    *,
    title: str,
    options: Sequence[str],
    opens_at: datetime.datetime,
    closes_at: datetime.datetime,
    actor: User | None,
    description: str = "",
    allow_change: bool = True,
    results_visibility: str = ResultsVisibility.LIVE,
    secret: bool = True,
) -> Poll:
    """A public poll, secret unless asked otherwise; shareholder items are made with
    `item_create`, on a meeting."""
    labels = _clean_options(options, title=title)
    _refuse_bidi_overrides(description=description)
    _window_check(opens_at, closes_at)
    poll = Poll.objects.create(
        title=title,
        description=description,
        kind=PollKind.PUBLIC,
        opens_at=opens_at,
        closes_at=closes_at,
        allow_change=allow_change,
        results_visibility=results_visibility,
        secret=secret,
        created_by=actor,
    )
    Option.objects.bulk_create(Option(poll=poll, label=label, position=i) for i, label in enumerate(labels))
    return poll


def _audit_poll(
    poll: Poll, action: str, actor: User | None, *, at: datetime.datetime | None = None, **payload: object
) -> None:
    audit_append(
        stream=f"poll:{poll.pk}", action=action, actor=actor, at=at, payload={"status": poll.status, **payload}
    )


def _locked_poll(poll_id: int) -> Poll:
    try:
        return Poll.objects.select_for_update().get(pk=poll_id)
    except Poll.DoesNotExist:
        raise PollNotFound() from None


@transaction.atomic
def poll_schedule(*, poll: Poll, actor: User | None = None) -> Poll:
    """Publish a draft: it opens by itself at `opens_at` (the sweep, or the next read)."""
    poll_manager_required(actor)
    poll = _locked_poll(poll.pk)
    try:
        transition = lifecycle.move(poll.status, Event.SCHEDULE, poll.phase(timezone.now()))
    except lifecycle.Refused as refused:
        if refused.refusal is Refusal.WINDOW:
            raise IllegalTransition(_("The closing time has already passed.")) from None
        raise IllegalTransition(
            _("Only a draft can be scheduled; this poll is %(status)s.") % {"status": poll.get_status_display()}
        ) from None
    poll.status = PollStatus(transition.target)
    poll.save(update_fields=["status", "updated_at"])
    _audit_poll(poll, "poll_scheduled", actor)
    return poll_open_if_due(poll=poll, actor=actor)


@transaction.atomic
def poll_open(*, poll: Poll, now: datetime.datetime | None = None, actor: User | None = None) -> Poll:
    """Open now. A poll scheduled for later opens early; one whose closing time passed cannot."""
    poll_manager_required(actor)
    now = now or timezone.now()
    poll = _locked_poll(poll.pk)
    try:
        lifecycle.move(poll.status, Event.OPEN, poll.phase(now))
    except lifecycle.Refused as refused:
        if refused.refusal is Refusal.WINDOW:
            raise IllegalTransition(_("The closing time has already passed; move it before opening.")) from None
        raise IllegalTransition(
            _("Only a draft or scheduled poll can be opened; this one is %(status)s.")
            % {"status": _status_word(poll.status)}
        ) from None
    return _record_open(poll, at=now, actor=actor)


def _frozen_rules(poll: Poll) -> dict[str, object]:
    """The item's rules for its opening and closing links: frozen from the opening on, kept on
    the trail so that a change by SQL is found (polls/rules_trail.py) rather than certified."""
    rules = kinds.form_of(poll).certified_rules(poll)
    return {"rules": rules} if rules else {}


def _record_open(poll: Poll, *, at: datetime.datetime, actor: User | None) -> Poll:
    """The one open path, for a poll the caller holds locked: the secretary's opening (early,
    or of a draft) and the sweep's record of an opening time reached, both at `at`. An early
    opening moves the opening time to `at`."""
    poll.status = PollStatus.OPEN
    poll.opens_at = min(poll.opens_at, at)
    poll.save(update_fields=["status", "opens_at", "updated_at"])
    _audit_poll(poll, "poll_opened", actor, at=at, **_frozen_rules(poll))
    poll_opened.send(sender=Poll, poll_id=poll.pk)
    return poll


@transaction.atomic
def poll_close(*, poll: Poll, now: datetime.datetime | None = None, actor: User | None = None) -> Poll:
    """Close now (or record that the closing time has come). Ballots in flight finish first:
    the row lock waits for them, since each ballot holds a key-share lock on its poll. The
    closing time is read after the lock, so every accepted ballot was cast before it."""
    poll_manager_required(actor)
    poll = _locked_poll(poll.pk)
    now = now or timezone.now()
    try:
        lifecycle.move(poll.status, Event.CLOSE, poll.phase(now))
    except lifecycle.Refused:
        raise IllegalTransition(
            _("Only an open poll can be closed; this one is %(status)s.") % {"status": _status_word(poll.status)}
        ) from None
    return _record_close(poll, at=now, actor=actor)


def _record_close(poll: Poll, *, at: datetime.datetime, actor: User | None) -> Poll:
    """The one close path, for a poll the caller holds locked: the secretary's close (`poll_close`),
    and the record of a closing time that has passed (the sweep, at its run; certification, at
    the closing time). An early close moves the closing time to `at`, and the opening time
    before it if need be; a close recorded late leaves the window as it was."""
    poll.status = PollStatus.CLOSED
    poll.closes_at = min(poll.closes_at, at)
    if poll.opens_at >= poll.closes_at:
        poll.opens_at = poll.closes_at - datetime.timedelta(microseconds=1)
    poll.save(update_fields=["status", "opens_at", "closes_at", "updated_at"])
    # Again at the close: an item whose whole window passed before a sweep closes unopened.
    _audit_poll(poll, "poll_closed", actor, at=at, **_frozen_rules(poll))
    poll_closed.send(sender=Poll, poll_id=poll.pk)
    return poll


@dataclass(frozen=True)
class SweepReport:
    opened: int
    closed: int


def polls_sweep(*, now: datetime.datetime | None = None) -> SweepReport:
    """Bring stored statuses in line with the clock. Each poll moves in its own transaction
    and under its own lock, so a second sweep running at the same time changes nothing."""
    now = now or timezone.now()
    opened = _clock_moves_record(Event.OPENS_AT_REACHED, now)
    closed = _clock_moves_record(Event.CLOSES_AT_REACHED, now)
    return SweepReport(opened=opened, closed=closed)


_CLOCK_RECORDS = {Event.OPENS_AT_REACHED: _record_open, Event.CLOSES_AT_REACHED: _record_close}


def _clock_moves_record(event: Event, now: datetime.datetime) -> int:
    """Record the clock's moves by `event` that are due (polls.lifecycle.clock_move), judged
    again under the poll's lock: another sweep may have recorded them first."""
    moved = 0
    due = Poll.objects.filter(window_q(lifecycle.clock_due_conditions(event), now))
    for poll_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            poll = _locked_poll(poll_id)
            transition = lifecycle.clock_move(poll.status, poll.phase(now))
            if transition is not None and transition.event == event:
                _CLOCK_RECORDS[event](poll, at=now, actor=None)
                moved += 1
    return moved


# Judged on the effective status (polls.lifecycle.TERMS_EDITABLE); the admin and the item
# services ask by this name.
EDITABLE_STATUSES = lifecycle.TERMS_EDITABLE


@transaction.atomic
def poll_update(*, poll: Poll, actor: User | None = None, **changes: object) -> Poll:
    """Edit the question or the window before voting starts; once ballots can exist, the
    terms they were cast under stay fixed. Moving a scheduled poll's opening to now or
    earlier opens it, through `poll_open`."""
    poll_manager_required(actor)
    allowed = {"title", "description", "opens_at", "closes_at", "allow_change", "results_visibility", "secret"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidPollData(_("These fields cannot be edited: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    if isinstance(changes.get("title"), str):
        _refuse_control_characters(title=str(changes["title"]))
    if isinstance(changes.get("description"), str):
        _refuse_bidi_overrides(description=str(changes["description"]))
    poll = _locked_poll(poll.pk)
    if not lifecycle.terms_editable(poll.status, poll.phase(timezone.now())):
        raise IllegalTransition(_("A poll can be edited only before it opens."))
    for field, value in changes.items():
        setattr(poll, field, value)
    _window_check(poll.opens_at, poll.closes_at)
    if poll.secret and not poll.ballot_form.may_be_secret:
        raise InvalidPollData(refusals.ITEM_NOT_SECRET)
    poll.save(update_fields=[*changes, "updated_at"])
    return poll_open_if_due(poll=poll, actor=actor)


def poll_open_if_due(*, poll: Poll, actor: User | None = None) -> Poll:
    """A scheduled poll whose opening time has come is open for ballots (`effective_status`):
    whichever edit brought that about, the opening goes through `poll_open`, so the trail
    has its `poll_opened` event and who caused it before any ballot arrives."""
    now = timezone.now()
    transition = lifecycle.clock_move(poll.status, poll.phase(now))
    if transition is not None and transition.event == Event.OPENS_AT_REACHED:
        return poll_open(poll=poll, now=now, actor=actor)
    return poll


# --- Shareholder meetings: registers, items, proxies, ballots, tabulations -------------------

CHOICE_LABELS: dict[str, str] = {Choice.FOR: "For", Choice.AGAINST: "Against", Choice.ABSTAIN: "Abstain"}


def _parse_fraction(text: str, comparator: str, *, what: str) -> Threshold:
    """`what` names the value, translated: "quorum", "threshold" or "escalation threshold"."""
    try:
        return Threshold.parse(text, comparator)
    except ValueError as error:
        # The reason comes from polls.standards, which is plain Python and stays in English.
        raise InvalidPollData(
            _("The %(what)s %(text)s is not valid: %(error)s") % {"what": what, "text": repr(text), "error": error}
        ) from None


# --- Polls held elsewhere ------------------------------------------------------------------


@transaction.atomic
def recorded_poll_create(
    *, platform: str, url: str, author: str, question: str, options: Sequence[str], actor: User | None
) -> RecordedPoll:
    labels = [label.strip() for label in options]
    _refuse_control_characters(platform=platform, author=author, question=question, options=labels)
    if len(labels) < MIN_OPTIONS or any(not label for label in labels) or option_label_duplicates(labels):
        raise InvalidPollData(_("A recorded poll needs at least two distinct, non-empty options."))
    return RecordedPoll.objects.create(
        platform=platform, url=url, author=author, question=question, options=labels, created_by=actor
    )


@transaction.atomic
def recorded_snapshot_add(
    *,
    recorded_poll: RecordedPoll,
    taken_at: datetime.datetime,
    total_votes: int,
    percentages: Mapping[str, Decimal],
    note: str = "",
) -> RecordedSnapshot:
    """What the platform showed at `taken_at`. Percentages are as the platform rounded them,
    so they are kept exactly as given, not recomputed."""
    unknown = set(percentages) - set(recorded_poll.options)
    if unknown:
        raise InvalidPollData(_("Not options of this poll: %(labels)s.") % {"labels": ", ".join(sorted(unknown))})
    if any(not Decimal(0) <= value <= Decimal(100) for value in percentages.values()):
        raise InvalidPollData(_("Percentages must lie between 0 and 100."))
    if total_votes < 0:
        raise InvalidPollData(_("The total of votes must not be negative."))
    if RecordedSnapshot.objects.filter(recorded_poll=recorded_poll, taken_at=taken_at).exists():
        raise IllegalTransition(_("A snapshot at that moment is already recorded."))
    return RecordedSnapshot.objects.create(
        recorded_poll=recorded_poll,
        taken_at=taken_at,
        total_votes=total_votes,
        percentages={label: str(value) for label, value in percentages.items()},
        note=note,
    )


@transaction.atomic
def poll_escalation_set(*, poll: Poll, option_label: str, threshold: str = "2/3", comparator: str = ">=") -> Poll:
    """At close, an option at or above `threshold` of the votes opens a draft proposal."""
    poll = _locked_poll(poll.pk)
    if not poll.ballot_form.escalates:
        raise InvalidPollData(_("Escalation rules belong to public polls."))
    option = Option.objects.filter(poll_id=poll.pk, label=option_label).first()
    if option is None:
        raise InvalidPollData(_("The poll has no option %(label)s.") % {"label": repr(option_label)})
    fraction = _parse_fraction(threshold, comparator, what=pgettext("value being checked", "escalation threshold"))
    poll.escalation_option = option
    poll.escalation_numerator = fraction.fraction.numerator
    poll.escalation_denominator = fraction.fraction.denominator
    poll.escalation_comparator = str(fraction.comparator)
    poll.save(
        update_fields=["escalation_option", "escalation_numerator", "escalation_denominator", "escalation_comparator"]
    )
    return poll


def polls_reconcile() -> list[int]:
    """Recount every poll not yet certified and report those whose running totals differ from
    their ballots. Read-only: the secretary sees the difference again when certifying, which
    refuses until it is resolved."""
    from polls.certification import poll_recount  # it builds on this module

    mismatched = []
    for poll in Poll.objects.exclude(status__in=[PollStatus.DRAFT, PollStatus.CERTIFIED]):
        lines = [line for line in poll_recount(poll=poll) if not line.matches]
        if lines:
            mismatched.append(poll.pk)
            logger.error(
                "poll %s: running totals differ from the recount: %s",
                poll.pk,
                "; ".join(f"{line.label} {line.running_votes}/{line.counted_votes}" for line in lines),
            )
    return mismatched


@transaction.atomic
def profile_language_set(*, actor: User, language: str) -> None:
    """Remember the reader's language for what reaches them outside the browser (e-mails)."""
    if language not in dict(settings.LANGUAGES):
        raise InvalidPollData(_("Unknown language %(language)s.") % {"language": repr(language)})
    Profile.objects.update_or_create(user=actor, defaults={"language": language})
